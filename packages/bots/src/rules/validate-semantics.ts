/**
 * Checks the JSON Schema cannot express: names that must resolve (facts, operators, shared conditions, value
 * sets, template placeholders), FHIRPath and `path` syntax, the longest possible card summary, condition depth,
 * and the CRD rule that primary hooks always answer with coverage information (CRD hook-16).
 */
import { checkCoverageInformation } from '../cds/crd.js';
import { isCrdPrimaryHook } from '../cds/hooks.js';
import { isRecord } from '../cds/util.js';
import { reachableConditions } from './compile.js';
import { toCoverageInput } from './coverage.js';
import { compileFhirPath } from './fhirpath.js';
import { RULE_SET_LIMITS } from './limits.js';
import { BUILT_IN_OPERATORS, CUSTOM_OPERATOR_CHECKS, OPERATOR_DECORATORS, splitOperator } from './operators.js';
import { parsePath } from './path-resolver.js';
import { BUILT_IN_PLACEHOLDERS, maxRenderedLength, placeholders } from './template.js';
import {
  PRIOR_AUTHORIZATION,
  type CoverageEvent,
  type NestedCondition,
  type PasDecisionEvent,
  type RuleSetDocument,
  type TopLevelCondition,
} from './types.js';

export interface RuleSetIssue {
  pointer: string;
  message: string;
}

type Report = (pointer: string, message: string) => void;

/** A key as one JSON Pointer segment (RFC 6901). */
export const escapePointer = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * `partial`: the schema refused the document. Each fact, shared condition, rule and the default coverage is then
 * checked on its own, and a part whose shape the checks cannot read (the schema reported it) is skipped.
 */
export function checkSemantics(
  doc: RuleSetDocument,
  errors: RuleSetIssue[],
  warnings: RuleSetIssue[],
  partial = false,
): void {
  const error: Report = (pointer, message) => errors.push({ pointer, message });
  const warn: Report = (pointer, message) => warnings.push({ pointer, message });
  const guard = (check: () => void): void => {
    if (!partial) return check();
    try {
      check();
    } catch {
      // A part of the wrong shape: the schema's error for it is already in the list.
    }
  };
  const facts = isRecord(doc.facts) ? doc.facts : {};
  const factNames = new Set(Object.keys(facts));
  const maxLengths = new Map<string, number>();
  for (const [name, def] of Object.entries(facts)) {
    guard(() => {
      const spec = typeof def === 'string' ? { fhirpath: def } : def;
      maxLengths.set(name, spec.maxLength ?? RULE_SET_LIMITS.defaultFactMaxLength);
      const pointer =
        typeof def === 'string' ? `/facts/${escapePointer(name)}` : `/facts/${escapePointer(name)}/fhirpath`;
      const parsed = compileFhirPath(spec.fhirpath);
      if ('error' in parsed) error(pointer, `The FHIRPath of fact '${name}' ${parsed.error}.`);
    });
  }
  const shared = isRecord(doc.conditions) ? (doc.conditions as Record<string, TopLevelCondition>) : {};
  const known = [...factNames].join(', ') || '(none)';
  const ctx = { doc, factNames, known, shared, error };

  for (const [name, condition] of Object.entries(shared)) {
    guard(() => {
      checkCondition(ctx, condition, `/conditions/${escapePointer(name)}`, 1);
      if (reachableConditions(condition, shared).has(name)) {
        error(`/conditions/${escapePointer(name)}`, `Shared condition '${name}' refers back to itself.`);
      }
    });
  }

  const ruleNames = new Set<string>();
  let unindexed = 0;
  (Array.isArray(doc.rules) ? doc.rules : []).forEach((rule, i) =>
    guard(() => {
      const base = `/rules/${i}`;
      if (ruleNames.has(rule.name)) error(`${base}/name`, `Rule name '${rule.name}' is used twice.`);
      ruleNames.add(rule.name);
      checkCondition(ctx, rule.conditions, `${base}/conditions`, 1);
      if (!('all' in rule.conditions) && !('condition' in rule.conditions)) unindexed++;
      let sawCard = false;
      rule.events.forEach((event, j) => {
        const at = `${base}/events/${j}`;
        const checkTemplate = (text: string, pointer: string): void => {
          for (const name of placeholders(text)) {
            if (!factNames.has(name) && BUILT_IN_PLACEHOLDERS[name] === undefined) {
              error(pointer, `The placeholder {{${name}}} names no fact (known facts: ${known}).`);
            }
          }
        };
        const pas = doc.hook === PRIOR_AUTHORIZATION;
        if (pas !== (event.type === 'pas-decision')) {
          error(
            `${at}/type`,
            pas
              ? `A prior-authorization rule set decides items with 'pas-decision' events, not '${event.type}'.`
              : `'pas-decision' events belong to rule sets whose hook is '${PRIOR_AUTHORIZATION}'.`,
          );
          return;
        }
        if (event.type === 'pas-decision') {
          checkPasDecision(event, at, error);
          if (event.authorizationNumber) checkTemplate(event.authorizationNumber, `${at}/authorizationNumber`);
          if (event.note) checkTemplate(event.note, `${at}/note`);
        } else if (event.type === 'card') {
          sawCard = true;
          checkTemplate(event.summary, `${at}/summary`);
          const longest = maxRenderedLength(event.summary, (n) => maxLengths.get(n) ?? BUILT_IN_PLACEHOLDERS[n] ?? 0);
          if (longest > RULE_SET_LIMITS.maxSummaryLength) {
            error(
              `${at}/summary`,
              `The card summary can reach ${longest} characters; CDS Hooks allows fewer than 140. Shorten the text or lower the facts' maxLength.`,
            );
          }
          if (event.detail) checkTemplate(event.detail, `${at}/detail`);
          event.links?.forEach((l, k) => checkTemplate(l.label, `${at}/links/${k}/label`));
          event.suggestions?.forEach((s, k) => checkTemplate(JSON.stringify(s), `${at}/suggestions/${k}`));
        } else if (event.type === 'suggestion') {
          if (!sawCard) error(at, 'A suggestion event must follow a card event in the same rule.');
          checkTemplate(JSON.stringify(event), at);
        } else {
          checkCoverageOutcome(event, at, error);
          if (!doc.crd) warn(at, 'Coverage information is returned only by CRD services (set "crd": true).');
          if (event.billingCode && !Array.isArray(event.billingCode) && !factNames.has(event.billingCode.fact)) {
            error(`${at}/billingCode/fact`, `Unknown fact '${event.billingCode.fact}' (known facts: ${known}).`);
          }
          if (
            doc.crd &&
            !isCrdPrimaryHook(doc.hook) &&
            ((event.docNeeded?.length ?? 0) > 0 || (event.infoNeeded?.length ?? 0) > 0)
          ) {
            warn(
              at,
              `CRD hook-19: coverage information on ${doc.hook} should not ask for clinical or administrative information.`,
            );
          }
        }
      });
    }),
  );

  guard(() => {
    if (!doc.defaultDecision) return;
    if (doc.hook !== PRIOR_AUTHORIZATION)
      error('/defaultDecision', `defaultDecision belongs to rule sets whose hook is '${PRIOR_AUTHORIZATION}'.`);
    else checkPasDecision(doc.defaultDecision, '/defaultDecision', error);
  });
  guard(() => {
    if (doc.defaultCoverage) checkCoverageOutcome(doc.defaultCoverage, '/defaultCoverage', error);
  });
  if (doc.crd && isCrdPrimaryHook(doc.hook) && !doc.defaultCoverage) {
    error(
      '/defaultCoverage',
      `A CRD service for ${doc.hook} (a primary hook) must return coverage information for every order (CRD hook-16): add defaultCoverage for orders no rule decides.`,
    );
  }
  if (
    isRecord(doc.defaultCoverage?.billingCode) &&
    !Array.isArray(doc.defaultCoverage.billingCode) &&
    !factNames.has(doc.defaultCoverage.billingCode.fact)
  ) {
    error(
      '/defaultCoverage/billingCode/fact',
      `Unknown fact '${doc.defaultCoverage.billingCode.fact}' (known facts: ${known}).`,
    );
  }
  if (unindexed > 100) {
    warn('/rules', `${unindexed} rules have no top-level 'all' and run on every request; expect slower answers.`);
  }
  if (!doc.tests || doc.tests.length === 0) warn('/tests', 'The rule set has no test cases.');
}

interface Ctx {
  doc: RuleSetDocument;
  factNames: Set<string>;
  known: string;
  shared: Record<string, TopLevelCondition>;
  error: Report;
}

function checkCondition(ctx: Ctx, condition: NestedCondition, pointer: string, depth: number): void {
  if (depth > RULE_SET_LIMITS.maxConditionDepth) {
    ctx.error(pointer, `Conditions are nested more than ${RULE_SET_LIMITS.maxConditionDepth} levels deep.`);
    return;
  }
  if ('all' in condition) condition.all.forEach((c, i) => checkCondition(ctx, c, `${pointer}/all/${i}`, depth + 1));
  else if ('any' in condition)
    condition.any.forEach((c, i) => checkCondition(ctx, c, `${pointer}/any/${i}`, depth + 1));
  else if ('not' in condition) checkCondition(ctx, condition.not, `${pointer}/not`, depth + 1);
  else if ('condition' in condition) {
    if (!ctx.shared[condition.condition]) {
      const names = Object.keys(ctx.shared).join(', ') || '(none)';
      ctx.error(`${pointer}/condition`, `Unknown shared condition '${condition.condition}' (defined: ${names}).`);
    }
  } else {
    if (!ctx.factNames.has(condition.fact)) {
      ctx.error(`${pointer}/fact`, `Unknown fact '${condition.fact}' (known facts: ${ctx.known}).`);
    }
    const { decorators, operator } = splitOperator(condition.operator);
    const badDecorator = decorators.find((d) => !OPERATOR_DECORATORS.includes(d));
    const custom = CUSTOM_OPERATOR_CHECKS[operator];
    if (badDecorator !== undefined) {
      ctx.error(
        `${pointer}/operator`,
        `Unknown operator decorator '${badDecorator}' (allowed: ${OPERATOR_DECORATORS.join(', ')}).`,
      );
    } else if (!custom && !BUILT_IN_OPERATORS.includes(operator)) {
      ctx.error(
        `${pointer}/operator`,
        `Unknown operator '${operator}' (allowed: ${[...BUILT_IN_OPERATORS, ...Object.keys(CUSTOM_OPERATOR_CHECKS)].join(', ')}).`,
      );
    } else if (custom && !isFactReference(condition.value) && decorators.every((d) => d === 'not')) {
      const problem = custom(condition.value, ctx.doc.valueSets ?? {});
      if (problem) ctx.error(`${pointer}/value`, `Operator ${operator}: ${problem}.`);
    }
    if (isFactReference(condition.value)) {
      const ref = condition.value.fact;
      if (typeof ref !== 'string' || !ctx.factNames.has(ref)) {
        ctx.error(`${pointer}/value/fact`, `Unknown fact '${String(ref)}' (known facts: ${ctx.known}).`);
      }
    }
    if (condition.path !== undefined) {
      const parsed = parsePath(condition.path);
      if (typeof parsed === 'string')
        ctx.error(`${pointer}/path`, `The path '${condition.path}' is not allowed: ${parsed}.`);
    }
  }
}

function isFactReference(value: unknown): value is { fact: unknown } {
  return isRecord(value) && 'fact' in value;
}

/** The CRD invariants (crd-ci-q1..q9) checked at save time with the builder's own checker. */
function checkCoverageOutcome(outcome: Omit<CoverageEvent, 'type'>, pointer: string, error: Report): void {
  const { billingCode: _billingCode, ...rest } = outcome as CoverageEvent;
  const input = toCoverageInput(rest, { coverage: 'Coverage/check', date: '2026-01-01', coverageAssertionId: 'check' });
  for (const issue of checkCoverageInformation(input)) {
    error(`${pointer}/${issue.path.replace(/\[(\d+)\]/g, '/$1')}`, `Coverage outcome: ${issue.message}.`);
  }
}

/** A modified (A6) item must say what is authorized instead (PAS spec-36). */
function checkPasDecision(event: Omit<PasDecisionEvent, 'type'>, at: string, error: Report): void {
  if (event.action === 'A6' && !event.authorized) {
    error(`${at}/authorized`, 'A modified (A6) decision must give the authorized details.');
  }
}
