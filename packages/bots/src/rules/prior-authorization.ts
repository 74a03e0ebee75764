/**
 * Evaluates a prior authorization rule set (`hook: "prior-authorization"`) on a PAS adjudication input: each Claim
 * item to decide is judged on its own, with facts computed by FHIRPath over the input (`claim`, `bundle`, `member`,
 * `history`, `attachments`) and `%item` bound to the item; the highest-priority `pas-decision` event of the fired
 * rules decides it, else `defaultDecision`, else the item is pended for review. Pure code: it also runs in the
 * sandbox (see bot-code.ts).
 */
import type { CompiledRuleSet } from './compile.js';
import { todayIn } from './dates.js';
import { computeFacts, runEngine } from './evaluate.js';
import { toTypedValue } from './fhirpath.js';
import { BUILT_IN_PLACEHOLDERS, renderTemplate, renderValue } from './template.js';
import { RULE_SET_LIMITS } from './limits.js';
import type { PasDecisionEvent } from './types.js';

interface ClaimItemLike {
  sequence?: number;
  productOrService?: { coding?: { code?: string }[] };
}

export interface PasInput {
  claim?: { item?: ClaimItemLike[] };
  sequences?: number[];
  [key: string]: unknown;
}

export interface PasItemDecision extends Omit<PasDecisionEvent, 'type' | 'periodDays'> {
  sequence: number;
  issueDate?: string;
  period?: { start: string; end: string };
  /** The rule that decided, for the audit trail and tests. */
  rule?: string;
}

export interface PasRuleDecision {
  items: PasItemDecision[];
}

const PENDED: Omit<PasDecisionEvent, 'type'> = { action: 'A4', note: 'Pended for review: no rule decided this item' };

const isoDate = (days: number): string => new Date(days * 86_400_000).toISOString().slice(0, 10);

export async function evaluatePriorAuthorization(
  compiled: CompiledRuleSet,
  input: PasInput,
  options: { now?: Date } = {},
): Promise<PasRuleDecision> {
  const now = options.now ?? new Date();
  const items = Array.isArray(input.claim?.item) ? input.claim.item : [];
  const sequences = Array.isArray(input.sequences) ? input.sequences : items.map((i) => i.sequence ?? 0);
  const typed = toTypedValue(input);
  const maxLengths = new Map(compiled.facts.map((f) => [f.name, f.maxLength]));
  const today = todayIn(now, compiled.doc.timeZone);
  const out: PasItemDecision[] = [];
  for (const sequence of sequences.slice(0, 1000)) {
    const item = items.find((i) => i.sequence === sequence);
    const facts = computeFacts(compiled, typed, item as never, '%item');
    const fired = await runEngine(compiled, facts, now);
    let chosen: Omit<PasDecisionEvent, 'type'> | undefined;
    let rule: string | undefined;
    for (const f of fired) {
      const event = f.definition.events.find((e): e is PasDecisionEvent => e.type === 'pas-decision');
      if (event) {
        chosen = event;
        rule = f.definition.name;
        break;
      }
    }
    chosen ??= compiled.doc.defaultDecision ?? PENDED;
    const lookup = (name: string): string => {
      if (name === 'item.sequence') return String(sequence);
      if (name === 'item.code') return renderValue(item?.productOrService?.coding?.[0]?.code, 64);
      if (name === 'rule') return rule ?? '';
      if (BUILT_IN_PLACEHOLDERS[name] !== undefined) return '';
      return renderValue(facts[name], maxLengths.get(name) ?? RULE_SET_LIMITS.defaultFactMaxLength);
    };
    const {
      type: _type,
      periodDays,
      authorizationNumber,
      note,
      ...rest
    } = chosen as Omit<PasDecisionEvent, 'type'> & { type?: string };
    const certified = chosen.action === 'A1' || chosen.action === 'A2' || chosen.action === 'A6';
    out.push({
      sequence,
      ...rest,
      ...(authorizationNumber ? { authorizationNumber: renderTemplate(authorizationNumber, lookup) } : {}),
      ...(note ? { note: renderTemplate(note, lookup) } : {}),
      ...(certified ? { issueDate: isoDate(today) } : {}),
      ...(certified && periodDays ? { period: { start: isoDate(today), end: isoDate(today + periodDays) } } : {}),
      ...(rule ? { rule } : {}),
    });
  }
  return { items: out };
}
