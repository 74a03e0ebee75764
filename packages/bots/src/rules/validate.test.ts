import { describe, expect, it } from 'vitest';
import { minimalRuleSet } from './__fixtures__/minimal.js';
import { RULE_SET_LIMITS } from './limits.js';
import type { RuleSetDocument } from './types.js';
import { validateRuleSet } from './validate.js';

type Mutable = Record<string, unknown> & RuleSetDocument;
const broken = (mutate: (doc: Mutable) => void): ReturnType<typeof validateRuleSet> => {
  const doc = structuredClone(minimalRuleSet()) as Mutable;
  mutate(doc);
  return validateRuleSet(doc);
};
const firstRule = (doc: RuleSetDocument): RuleSetDocument['rules'][number] =>
  doc.rules[0] as RuleSetDocument['rules'][number];

describe('validateRuleSet', () => {
  it('accepts the minimal rule set', () => {
    const result = validateRuleSet(minimalRuleSet());
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.warnings).toEqual([{ pointer: '/tests', message: 'The rule set has no test cases.' }]);
  });

  it('refuses non-objects', () => {
    expect(validateRuleSet([]).errors).toEqual([
      { pointer: '', message: 'A rule set must be a JSON (or YAML) object.' },
    ]);
  });

  it.each([
    [
      'missing property',
      (d: Mutable) => delete (d as Partial<Mutable>).title,
      '/title',
      "The rule set is missing the required property 'title'.",
    ],
    [
      'unknown property',
      (d: Mutable) => (d['colour'] = 'red'),
      '/colour',
      "The rule set has an unknown property 'colour'.",
    ],
    ['unknown hook', (d: Mutable) => (d.hook = 'order-sing'), '/hook', 'hook must be one of:'],
    ['bad id', (d: Mutable) => (d.id = 'Bad Id'), '/id', 'id does not have the expected form'],
    [
      'bad indicator',
      (d: Mutable) => ((firstRule(d).events[1] as { indicator: string }).indicator = 'red'),
      '/rules/0/events/1/indicator',
      'rules[0].events[1].indicator must be one of: info, warning, critical.',
    ],
    [
      'event missing field',
      (d: Mutable) => delete (firstRule(d).events[1] as { summary?: string }).summary,
      '/rules/0/events/1/summary',
      "rules[0].events[1] is missing the required property 'summary'.",
    ],
    [
      'condition missing value',
      (d: Mutable) => delete (firstRule(d).conditions as { all: { value?: unknown }[] }).all[0]?.value,
      '/rules/0/conditions/all/0/value',
      "is missing the required property 'value'",
    ],
    [
      'test without request',
      (d: Mutable) => (d.tests = [{ name: 't', expect: {} }]),
      '/tests/0',
      "must give one of 'request', 'requestFile' or 'input'",
    ],
    [
      'too many rules',
      (d: Mutable) => (d.rules = Array.from({ length: RULE_SET_LIMITS.maxRules + 1 }, () => firstRule(d))),
      '/rules',
      'must NOT have more than 5000 items',
    ],
  ])('schema: %s', (_name, mutate, pointer, message) => {
    const result = broken(mutate);
    expect(result.valid).toBe(false);
    const issue = result.errors.find((e) => e.pointer === pointer);
    expect(issue?.message, JSON.stringify(result.errors)).toContain(message);
  });

  it.each([
    [
      'unparsable FHIRPath',
      (d: Mutable) => (d.facts['plan'] = 'prefetch.coverage.where('),
      '/facts/plan',
      "The FHIRPath of fact 'plan' does not parse",
    ],
    [
      'forbidden FHIRPath function',
      (d: Mutable) => (d.facts['plan'] = "prefetch.descendants().where(value.matches('(a+)+$'))"),
      '/facts/plan',
      'calls descendants(), which rule sets may not use',
    ],
    [
      'forbidden FHIRPath function behind a tab',
      (d: Mutable) => (d.facts['plan'] = 'prefetch.coverage.resolve\t()'),
      '/facts/plan',
      'calls resolve(), which rule sets may not use',
    ],
    [
      'forbidden FHIRPath function named with backticks',
      (d: Mutable) => (d.facts['plan'] = 'prefetch.coverage.`resolve`()'),
      '/facts/plan',
      'calls resolve(), which rule sets may not use',
    ],
    [
      'over-long FHIRPath',
      (d: Mutable) => (d.facts['plan'] = `prefetch${'.a'.repeat(300)}`),
      '/facts/plan',
      'is longer than 500 characters',
    ],
    [
      'unknown fact',
      (d: Mutable) => ((firstRule(d).conditions as { all: { fact: string }[] }).all[0]!.fact = 'planId'),
      '/rules/0/conditions/all/0/fact',
      "Unknown fact 'planId' (known facts: plan, codes, cpt).",
    ],
    [
      'unknown operator',
      (d: Mutable) => ((firstRule(d).conditions as { all: { operator: string }[] }).all[0]!.operator = 'regexMatch'),
      '/rules/0/conditions/all/0/operator',
      "Unknown operator 'regexMatch'",
    ],
    [
      'unknown decorator',
      (d: Mutable) => ((firstRule(d).conditions as { all: { operator: string }[] }).all[0]!.operator = 'maybe:equal'),
      '/rules/0/conditions/all/0/operator',
      "Unknown operator decorator 'maybe'",
    ],
    [
      'bad operator value',
      (d: Mutable) => ((firstRule(d).conditions as { all: { value: unknown }[] }).all[1]!.value = 'not a list'),
      '/rules/0/conditions/all/1/value',
      'Operator codeIn: value must be a list of codes',
    ],
    [
      'unknown value set',
      (d: Mutable) => ((firstRule(d).conditions as { all: { value: unknown }[] }).all[1]!.value = { valueSet: 'nope' }),
      '/rules/0/conditions/all/1/value',
      "value set 'nope' is not defined",
    ],
    [
      'polluting path',
      (d: Mutable) => ((firstRule(d).conditions as { all: { path?: string }[] }).all[0]!.path = '$.__proto__.polluted'),
      '/rules/0/conditions/all/0/path',
      "The path '$.__proto__.polluted' is not allowed: the property '__proto__' is not allowed.",
    ],
    [
      'unknown shared condition',
      (d: Mutable) => (firstRule(d).conditions = { condition: 'adults' }),
      '/rules/0/conditions/condition',
      "Unknown shared condition 'adults'",
    ],
    [
      'cyclic shared condition',
      (d: Mutable) => (d.conditions = { a: { all: [{ condition: 'b' }] }, b: { any: [{ condition: 'a' }] } }),
      '/conditions/a',
      "Shared condition 'a' refers back to itself.",
    ],
    [
      'unknown placeholder',
      (d: Mutable) => ((firstRule(d).events[1] as { summary: string }).summary = 'PA for {{cptCode}}'),
      '/rules/0/events/1/summary',
      'The placeholder {{cptCode}} names no fact (known facts: plan, codes, cpt).',
    ],
    [
      'summary that can exceed 139',
      (d: Mutable) => ((firstRule(d).events[1] as { summary: string }).summary = `${'x'.repeat(100)} {{plan}}`),
      '/rules/0/events/1/summary',
      'The card summary can reach 141 characters',
    ],
    [
      'suggestion without card',
      (d: Mutable) => (firstRule(d).events = [{ type: 'suggestion', label: 'x' }]),
      '/rules/0/events/0',
      'A suggestion event must follow a card event',
    ],
    [
      'CRD primary hook without default coverage',
      (d: Mutable) => delete (d as Partial<Mutable>).defaultCoverage,
      '/defaultCoverage',
      'must return coverage information for every order (CRD hook-16)',
    ],
    [
      'coverage invariant',
      (d: Mutable) => (d.defaultCoverage = { covered: 'conditional' }),
      '/defaultCoverage/infoNeeded',
      'Coverage outcome: A conditional answer needs infoNeeded (crd-ci-q3).',
    ],
    [
      'duplicate rule name',
      (d: Mutable) => d.rules.push(structuredClone(firstRule(d))),
      '/rules/1/name',
      "Rule name 'pa-93456' is used twice.",
    ],
    [
      'unknown billing-code fact',
      (d: Mutable) =>
        ((firstRule(d).events[0] as { billingCode?: unknown }).billingCode = { fact: 'hcpcs', system: 'x' }),
      '/rules/0/events/0/billingCode/fact',
      "Unknown fact 'hcpcs'",
    ],
    [
      'unknown fact in a value reference',
      (d: Mutable) => ((firstRule(d).conditions as { all: { value: unknown }[] }).all[0]!.value = { fact: 'other' }),
      '/rules/0/conditions/all/0/value/fact',
      "Unknown fact 'other'",
    ],
  ])('semantics: %s', (_name, mutate, pointer, message) => {
    const result = broken(mutate);
    expect(result.valid).toBe(false);
    const issue = result.errors.find((e) => e.pointer === pointer);
    expect(issue?.message, JSON.stringify(result.errors)).toContain(message);
  });

  it('refuses conditions nested deeper than the limit', () => {
    let condition: Record<string, unknown> = { fact: 'plan', operator: 'equal', value: 'x' };
    for (let i = 0; i < RULE_SET_LIMITS.maxConditionDepth + 1; i++) condition = { any: [condition] };
    const result = broken((d) => (firstRule(d).conditions = condition as never));
    expect(result.errors.some((e) => e.message === 'Conditions are nested more than 8 levels deep.')).toBe(true);
  });

  it('refuses a hostile, deeply nested document before the schema recurses into it', () => {
    let condition: Record<string, unknown> = { fact: 'plan', operator: 'equal', value: 'x' };
    for (let i = 0; i < 100_000; i++) condition = { not: condition };
    const result = broken((d) => (firstRule(d).conditions = condition as never));
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.message).toBe('The document is nested more than 40 levels deep.');
    expect(result.errors[0]?.pointer.startsWith('/rules/0/conditions/not/not')).toBe(true);
  });

  it('warns about coverage events outside CRD services', () => {
    const result = broken((d) => {
      d.crd = false;
    });
    expect(result.valid).toBe(true);
    expect(result.warnings.map((w) => w.pointer)).toContain('/rules/0/events/0');
  });

  it('reports every problem in one pass: the schema errors and the semantic ones of the parts it could read', () => {
    const result = broken((d) => {
      d.hook = 'order-sing' as never; // schema
      (firstRule(d).events[1] as { indicator: string }).indicator = 'infoo'; // schema
      d.facts['broken'] = 'prefetch.coverage.where('; // semantic: FHIRPath
      (firstRule(d).conditions as { all: { fact: string }[] }).all[0]!.fact = 'plna'; // semantic: unknown fact
      d.rules.push({ name: 'odd', conditions: 'nope', events: [] } as never); // schema, its semantics unreadable
    });
    expect(result.valid).toBe(false);
    expect(result.errors.map((e) => e.pointer).sort()).toEqual([
      '/facts/broken',
      '/hook',
      '/rules/0/conditions/all/0/fact',
      '/rules/0/events/1/indicator',
      '/rules/1/conditions',
      '/rules/1/events',
    ]);
  });

  it('says where a FHIRPath that ends too early is missing something', () => {
    const result = broken((d) => (d.facts['broken'] = 'prefetch.coverage.where('));
    expect(result.errors[0]?.message).toBe(
      "The FHIRPath of fact 'broken' does not parse: it ends too early: something is missing after '(' (line 1, column 24), such as an operand or a closing parenthesis.",
    );
  });
});
