/**
 * Compiles a (validated) rule set: FHIRPath facts parsed once, and rules indexed by their discriminating equality
 * or code-list conditions so that an evaluation hands json-rules-engine only the candidate rules (its cost grows
 * with every rule it is handed; `npm run bench -- rules`). The index is a filter that never drops a rule that
 * could fire: a rule enters it only through a condition in its top-level `all`, and the condition's own test runs
 * again in the engine.
 */
import { codesOf, CODE_SYSTEMS, normalizeCode } from './codes.js';
import { compileFhirPath, type FhirPathAtom } from './fhirpath.js';
import { RULE_SET_LIMITS } from './limits.js';
import type { CodeList, NestedCondition, RuleDefinition, RuleSetDocument, TopLevelCondition } from './types.js';
import { CodeMatchers } from './operators.js';

interface CompiledFact {
  name: string;
  atom: FhirPathAtom;
  many: boolean;
  maxLength: number;
}

interface CompiledRule {
  index: number;
  definition: RuleDefinition;
  priority: number;
  /** Shared conditions this rule reaches, directly or through other shared conditions. */
  sharedConditions: string[];
}

interface IndexGroup {
  fact: string;
  kind: 'plain' | 'code';
  byKey: Map<string, number[]>;
}

export interface CompiledRuleSet {
  readonly kind: 'hookbot-compiled-rule-set';
  doc: RuleSetDocument;
  facts: CompiledFact[];
  rules: CompiledRule[];
  groups: IndexGroup[];
  unindexed: number[];
  valueSets: Record<string, CodeList>;
  matchers: CodeMatchers;
}

export class RuleSetCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleSetCompileError';
  }
}

export function isCompiledRuleSet(value: unknown): value is CompiledRuleSet {
  return typeof value === 'object' && value !== null && (value as CompiledRuleSet).kind === 'hookbot-compiled-rule-set';
}

export function compileRuleSet(doc: RuleSetDocument): CompiledRuleSet {
  const facts = Object.entries(doc.facts).map(([name, def]): CompiledFact => {
    const spec = typeof def === 'string' ? { fhirpath: def } : def;
    const parsed = compileFhirPath(spec.fhirpath);
    if ('error' in parsed) throw new RuleSetCompileError(`fact ${name}: FHIRPath ${parsed.error}`);
    return {
      name,
      atom: parsed.atom,
      many: spec.many ?? false,
      maxLength: spec.maxLength ?? RULE_SET_LIMITS.defaultFactMaxLength,
    };
  });
  const shared = doc.conditions ?? {};
  const valueSets = doc.valueSets ?? {};
  const rules = doc.rules.map((definition, index): CompiledRule => ({
    index,
    definition,
    priority: definition.priority ?? 1,
    sharedConditions: [...reachableConditions(definition.conditions, shared)],
  }));
  const matchers = new CodeMatchers(valueSets);
  const { groups, unindexed } = buildIndex(rules, shared, matchers);
  return { kind: 'hookbot-compiled-rule-set', doc, facts, rules, groups, unindexed, valueSets, matchers };
}

/** The names of the shared conditions `root` refers to, directly or through other shared conditions. */
export function reachableConditions(root: NestedCondition, shared: Record<string, TopLevelCondition>): Set<string> {
  const seen = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    const c = stack.pop() as NestedCondition;
    if ('condition' in c) {
      const target = shared[c.condition];
      if (target && !seen.has(c.condition)) stack.push(target);
      seen.add(c.condition);
    } else if ('all' in c) stack.push(...c.all);
    else if ('any' in c) stack.push(...c.any);
    else if ('not' in c) stack.push(c.not);
  }
  return seen;
}

/** A condition that could index its rule: the keys it looks up in its group. */
type IndexCandidate = Pick<IndexGroup, 'fact' | 'kind'> & { keys: string[] };

/** Conditions every firing of the rule must satisfy: the members of top-level `all`s, through shared references. */
function requiredConditions(
  condition: NestedCondition,
  shared: Record<string, TopLevelCondition>,
  depth: number,
  out: NestedCondition[],
): NestedCondition[] {
  if (depth > RULE_SET_LIMITS.maxConditionDepth) return out;
  if ('condition' in condition) {
    const target = shared[condition.condition];
    if (target) requiredConditions(target, shared, depth + 1, out);
  } else if ('all' in condition) {
    for (const c of condition.all) {
      if ('fact' in c) out.push(c);
      else requiredConditions(c, shared, depth + 1, out);
    }
  }
  return out;
}

const isPrimitive = (v: unknown): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function indexCandidate(condition: NestedCondition, matchers: CodeMatchers): IndexCandidate | undefined {
  if (!('fact' in condition) || condition.path !== undefined) return undefined;
  const { fact, operator, value } = condition;
  if ((operator === 'equal' || operator === 'contains') && isPrimitive(value)) {
    return { fact, kind: 'plain', keys: [String(value)] };
  }
  if (operator === 'in' && Array.isArray(value) && value.every(isPrimitive)) {
    return { fact, kind: 'plain', keys: value.map(String) };
  }
  const matcher =
    operator === 'codeIn'
      ? matchers.forCondition(value)
      : operator === 'inValueSet' && typeof value === 'string'
        ? matchers.forValueSet(value)
        : undefined;
  const keys = matcher?.indexKeys();
  return keys ? { fact, kind: 'code', keys } : undefined;
}

const groupId = (fact: string, kind: string): string => `${kind}\u0000${fact}`;

function buildIndex(
  rules: CompiledRule[],
  shared: Record<string, TopLevelCondition>,
  matchers: CodeMatchers,
): { groups: IndexGroup[]; unindexed: number[] } {
  const perRule = rules.map((rule) =>
    requiredConditions(rule.definition.conditions, shared, 0, [])
      .map((c) => indexCandidate(c, matchers))
      .filter((c): c is IndexCandidate => c !== undefined),
  );
  const frequency = new Map<string, number>();
  for (const candidates of perRule) {
    for (const c of candidates) {
      for (const key of c.keys) {
        const id = `${groupId(c.fact, c.kind)}\u0000${key}`;
        frequency.set(id, (frequency.get(id) ?? 0) + 1);
      }
    }
  }
  const groups = new Map<string, IndexGroup>();
  const unindexed: number[] = [];
  perRule.forEach((candidates, index) => {
    let best: IndexCandidate | undefined;
    let bestCost = Infinity;
    for (const c of candidates) {
      const cost = c.keys.reduce((sum, key) => sum + (frequency.get(`${groupId(c.fact, c.kind)}\u0000${key}`) ?? 0), 0);
      if (cost < bestCost) {
        best = c;
        bestCost = cost;
      }
    }
    if (!best) {
      unindexed.push(index);
      return;
    }
    const id = groupId(best.fact, best.kind);
    let group = groups.get(id);
    if (!group) {
      group = { fact: best.fact, kind: best.kind, byKey: new Map() };
      groups.set(id, group);
    }
    for (const key of new Set(best.keys)) {
      const list = group.byKey.get(key);
      if (list) list.push(index);
      else group.byKey.set(key, [index]);
    }
  });
  return { groups: [...groups.values()], unindexed };
}

/** Indexes of the rules that may fire for these fact values, ascending. */
export function candidateRules(compiled: CompiledRuleSet, factValues: Record<string, unknown>): number[] {
  const chosen = new Set<number>(compiled.unindexed);
  for (const group of compiled.groups) {
    for (const key of lookupKeys(factValues[group.fact], group.kind)) {
      for (const index of group.byKey.get(key) ?? []) chosen.add(index);
    }
  }
  return [...chosen].sort((a, b) => a - b);
}

function lookupKeys(value: unknown, kind: 'plain' | 'code'): Set<string> {
  const keys = new Set<string>();
  if (value === undefined || value === null) return keys;
  if (kind === 'plain') {
    for (const item of Array.isArray(value) ? value : [value]) if (isPrimitive(item)) keys.add(String(item));
    return keys;
  }
  // The list's system decides normalisation, and a bare fact code has none: try each normal form.
  for (const c of codesOf(value)) {
    keys.add(normalizeCode(c.code, undefined));
    keys.add(normalizeCode(c.code, CODE_SYSTEMS.icd10cm));
    keys.add(normalizeCode(c.code, CODE_SYSTEMS.ndc));
  }
  return keys;
}
