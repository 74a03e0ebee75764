/**
 * Turns fired rules into the CDS response: cards (text templates filled from facts, deduplicated across orders),
 * suggestions (CRD resp-3: each with a uuid), and one coverage-information system action per judged order (the
 * highest-priority coverage event, else `defaultCoverage`).
 */
import type { Coverage, Resource } from '@medplum/fhirtypes';
import type { CdsAction, CdsCard, CdsLink, CdsRequest, CdsResponse, CdsSource, CdsSuggestion } from '../cds/types.js';
import { codesOf } from './codes.js';
import type { CompiledRuleSet } from './compile.js';
import { coverageInformation, coverageInformationAction } from '../cds/crd.js';
import { toCoverageInput } from './coverage.js';
import { todayIn } from './dates.js';
import { stableUuid } from './hash.js';
import { RULE_SET_LIMITS } from './limits.js';
import { prefetchResources, referenceOf } from './subjects.js';
import { BUILT_IN_PLACEHOLDERS, renderTemplate, renderValue } from './template.js';
import type {
  CardEvent,
  CoverageEvent,
  RuleDefinition,
  RuleSetAction,
  RuleSetSource,
  SuggestionEvent,
} from './types.js';

export interface FiredRule {
  index: number;
  definition: RuleDefinition;
}

/** One judged order (or none, for hooks without orders): its facts and the rules that fired. */
export interface Subject {
  order: Resource | undefined;
  facts: Record<string, unknown>;
  fired: FiredRule[];
}

const CARD_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/cdshooks-card-type';

export function renderOutcomes(
  compiled: CompiledRuleSet,
  request: CdsRequest,
  subjects: Subject[],
  now: Date,
): CdsResponse {
  const { doc } = compiled;
  const cards = new Map<string, CdsCard>();
  const systemActions: CdsAction[] = [];
  const coverage = prefetchResources(request).find((r): r is Coverage => r.resourceType === 'Coverage');
  const coverageReference = coverage ? `Coverage/${coverage.id ?? ''}` : undefined;
  const maxLengths = new Map(compiled.facts.map((f) => [f.name, f.maxLength]));

  for (const subject of subjects) {
    let coverageEvent: Omit<CoverageEvent, 'type'> | undefined;
    for (const rule of subject.fired) {
      const lookup = (name: string): string => {
        const builtIn = builtInValue(name, subject.order, request, rule.definition.name);
        if (builtIn !== undefined) return renderValue(builtIn, BUILT_IN_PLACEHOLDERS[name] ?? 40);
        return renderValue(subject.facts[name], maxLengths.get(name) ?? RULE_SET_LIMITS.defaultFactMaxLength);
      };
      let lastCard: CdsCard | undefined;
      for (const event of rule.definition.events) {
        if (event.type === 'card') {
          const card = renderCard(event, doc.source, doc.crd === true, lookup);
          const key = `${rule.index}\u0000${card.summary}\u0000${card.detail ?? ''}`;
          lastCard = cards.get(key);
          if (!lastCard) {
            card.uuid = stableUuid(request.hookInstance, 'card', key);
            cards.set(key, card);
            lastCard = card;
          }
          for (const s of event.suggestions ?? []) addSuggestion(lastCard, s, lookup, request.hookInstance);
        } else if (event.type === 'suggestion') {
          if (lastCard) addSuggestion(lastCard, event, lookup, request.hookInstance);
        } else if (event.type === 'coverage-information' && !coverageEvent) {
          const { type: _type, ...outcome } = event;
          coverageEvent = outcome;
        }
      }
    }
    coverageEvent ??= doc.defaultCoverage;
    if (subject.order && coverageEvent && coverageReference) {
      const { billingCode, ...outcome } = coverageEvent;
      const extension = coverageInformation(
        toCoverageInput(outcome, {
          coverage: coverageReference,
          billingCode: billingCodesOf(billingCode, subject.facts),
          coverageAssertionId: stableUuid(request.hookInstance, 'coverage', coverageReference),
          date: new Date(todayIn(now, doc.timeZone) * 86_400_000).toISOString().slice(0, 10),
        }),
      );
      systemActions.push(coverageInformationAction(subject.order, extension));
    }
  }
  const response: CdsResponse = { cards: [...cards.values()] };
  if (systemActions.length > 0) response.systemActions = systemActions;
  return response;
}

function builtInValue(
  name: string,
  order: Resource | undefined,
  request: CdsRequest,
  rule: string,
): string | undefined {
  switch (name) {
    case 'order.id':
      return order?.id ?? '';
    case 'order.resourceType':
      return order?.resourceType ?? '';
    case 'order.reference':
      return order ? referenceOf(order) : '';
    case 'hook':
      return request.hook;
    case 'patientId':
      return typeof request.context['patientId'] === 'string' ? request.context['patientId'] : '';
    case 'rule':
      return rule;
    default:
      return undefined;
  }
}

function renderSource(source: RuleSetSource, crd: boolean): CdsSource {
  const out: CdsSource = { label: source.label };
  if (source.url) out.url = source.url;
  const topic = source.topic ?? (crd ? 'coverage-info' : undefined);
  if (typeof topic === 'string') out.topic = { system: CARD_TYPE_SYSTEM, code: topic };
  else if (topic) out.topic = { ...topic };
  return out;
}

function renderCard(event: CardEvent, docSource: RuleSetSource, crd: boolean, lookup: (n: string) => string): CdsCard {
  let summary = renderTemplate(event.summary, lookup);
  if (summary.length > RULE_SET_LIMITS.maxSummaryLength)
    summary = `${summary.slice(0, RULE_SET_LIMITS.maxSummaryLength - 1)}…`;
  const card: CdsCard = { summary, indicator: event.indicator, source: renderSource(event.source ?? docSource, crd) };
  if (event.detail) card.detail = renderTemplate(event.detail, lookup);
  if (event.links) {
    card.links = event.links.map((l): CdsLink => ({
      label: renderTemplate(l.label, lookup),
      url: l.url,
      type: l.type ?? 'absolute',
    }));
  }
  if (event.selectionBehavior) card.selectionBehavior = event.selectionBehavior;
  return card;
}

function addSuggestion(
  card: CdsCard,
  s: Omit<SuggestionEvent, 'type'>,
  lookup: (n: string) => string,
  hookInstance: string,
): void {
  const label = renderTemplate(s.label, lookup);
  const actions = (s.actions ?? []).map((a) => renderDeep(a, lookup) as RuleSetAction);
  const key = JSON.stringify([label, actions]);
  const suggestions = (card.suggestions ??= []);
  const uuid = stableUuid(hookInstance, card.uuid ?? '', 'suggestion', key);
  if (suggestions.some((x) => x.uuid === uuid)) return;
  const suggestion: CdsSuggestion = { label, uuid };
  if (s.isRecommended !== undefined) suggestion.isRecommended = s.isRecommended;
  if (actions.length > 0) suggestion.actions = actions as CdsSuggestion['actions'];
  suggestions.push(suggestion);
  card.selectionBehavior ??= 'at-most-one';
}

/** Templates in every string of an action (resource JSON included), to a bounded depth. */
function renderDeep(value: unknown, lookup: (n: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return value.includes('{{') ? renderTemplate(value, lookup) : value;
  if (depth > 12 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, lookup, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = renderDeep(v, lookup, depth + 1);
  return out;
}

function billingCodesOf(
  spec: CoverageEvent['billingCode'],
  facts: Record<string, unknown>,
): { system: string; code: string; display?: string }[] {
  if (spec === undefined) return [];
  if (Array.isArray(spec)) return spec.map((c) => ({ ...c }));
  const seen = new Set<string>();
  const out: { system: string; code: string }[] = [];
  for (const c of codesOf(facts[spec.fact])) {
    if (c.system !== undefined && c.system !== spec.system) continue;
    if (seen.has(c.code)) continue;
    seen.add(c.code);
    out.push({ system: spec.system, code: c.code });
  }
  return out;
}
