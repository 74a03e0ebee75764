/**
 * Evaluates a compiled rule set on a CDS Hooks request, in process or inside the sandbox runner (this file and
 * its imports are what `bot-code.ts` bundles, so nothing here may touch Node APIs). Each in-scope order is judged
 * on its own: facts are computed with `%order` bound to it, only candidate rules from the index go to a fresh
 * json-rules-engine `Engine`, and the fired rules' events become cards and coverage-information system actions.
 */
import { Engine, type TopLevelCondition as EngineCondition, type RuleProperties } from 'json-rules-engine';
import type { Resource } from '@medplum/fhirtypes';
import type { CdsRequest, CdsResponse } from '../cds/types.js';
import { candidateRules, type CompiledRuleSet } from './compile.js';
import { evaluateFhirPath, toTypedValue, type TypedValue } from './fhirpath.js';
import { FhirPathLimitError } from './fhirpath-guard.js';
import { renderOutcomes, type FiredRule, type Subject } from './outcomes.js';
import { createOperators } from './operators.js';
import { resolvePath } from './path-resolver.js';
import { referenceOf, subjectsOf } from './subjects.js';

export interface EvaluateOptions {
  /** The clock (tests freeze it); defaults to the current time. */
  now?: Date;
}

export async function evaluateCompiled(
  compiled: CompiledRuleSet,
  request: CdsRequest,
  options: EvaluateOptions = {},
): Promise<CdsResponse> {
  const now = options.now ?? new Date();
  const orders = subjectsOf(request);
  const input = toTypedValue(request);
  const results: Subject[] = [];
  for (const order of orders.length > 0 ? orders : [undefined]) {
    const facts = computeFacts(compiled, input, order);
    results.push({ order, facts, fired: await runEngine(compiled, facts, now) });
  }
  return renderOutcomes(compiled, request, results, now);
}

/** A fact's value for one judged order (`order` null when the hook judges the request once, without one). */
export interface ExplainedFacts {
  order: string | null;
  facts: Record<string, unknown>;
}

/**
 * The facts of the rule set for each order it would judge, as the rules see them, and nothing else: the console's
 * fact explorer shows an analyst what a FHIRPath gives on a sample request. Runs in the sandbox (bot-code.ts).
 */
export function explainFacts(compiled: CompiledRuleSet, request: CdsRequest): ExplainedFacts[] {
  const orders = subjectsOf(request);
  const input = toTypedValue(request);
  return (orders.length > 0 ? orders : [undefined]).map((order) => ({
    order: order ? referenceOf(order) : null,
    facts: computeFacts(compiled, input, order),
  }));
}

export function computeFacts(
  compiled: CompiledRuleSet,
  input: TypedValue,
  order: Resource | undefined,
  subjectVariable = '%order',
): Record<string, unknown> {
  // An unbound %order would fail the whole expression; an empty object makes `%order.x` simply empty.
  const variables: Record<string, TypedValue> = { [subjectVariable]: toTypedValue(order ?? {}) };
  const facts: Record<string, unknown> = {};
  for (const fact of compiled.facts) {
    let values: unknown[];
    try {
      values = evaluateFhirPath(fact.atom, input, variables);
    } catch (err) {
      if (err instanceof FhirPathLimitError) throw new FhirPathLimitError(`Fact "${fact.name}" ${err.message}`);
      throw err;
    }
    facts[fact.name] = fact.many ? values : values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  }
  return facts;
}

export async function runEngine(
  compiled: CompiledRuleSet,
  facts: Record<string, unknown>,
  now: Date,
): Promise<FiredRule[]> {
  const candidates = candidateRules(compiled, facts);
  if (candidates.length === 0) return [];
  const engine = new Engine([], { allowUndefinedFacts: true, pathResolver: resolvePath });
  const operators = createOperators(
    { now, timeZone: compiled.doc.timeZone, valueSets: compiled.valueSets },
    compiled.matchers,
  );
  for (const [name, fn] of Object.entries(operators)) engine.addOperator(name, fn);
  const shared = compiled.doc.conditions ?? {};
  const needed = new Set<string>();
  for (const index of candidates) {
    const rule = compiled.rules[index];
    if (!rule) continue;
    for (const name of rule.sharedConditions) needed.add(name);
    engine.addRule({
      name: String(index),
      priority: rule.priority,
      conditions: rule.definition.conditions as EngineCondition,
      event: { type: 'fired' },
    } satisfies RuleProperties);
  }
  for (const name of needed) {
    const condition = shared[name];
    if (condition) engine.setCondition(name, condition as EngineCondition);
  }
  const runtimeFacts: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(facts)) if (value !== undefined) runtimeFacts[name] = value;
  const { results } = await engine.run(runtimeFacts);
  return results
    .map((r) => compiled.rules[Number(r.name)])
    .filter((r) => r !== undefined)
    .sort((a, b) => b.priority - a.priority || a.index - b.index)
    .map((r) => ({ index: r.index, definition: r.definition }));
}
