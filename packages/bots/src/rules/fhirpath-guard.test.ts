import { evalFhirPathTyped, toTypedValue } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { CPT, minimalRuleSet, orderSignRequest } from './__fixtures__/minimal.js';
import { compileFhirPath, evaluateFhirPath } from './fhirpath.js';
import {
  FhirPathLimitError,
  SET_COMPARISONS_PER_STEP,
  withFhirPathBounds,
  type FhirPathBounds,
} from './fhirpath-guard.js';
import { RULE_SET_LIMITS } from './limits.js';
import { evaluateRuleSet } from './run.js';
import { runRuleSetTests } from './test-cases.js';
import { validateRuleSet } from './validate.js';

/** Doubles the order's codings fifteen times: 32,768 items per coding, then counts them. */
const DOUBLING = `%order.code.coding${'.select($this.combine($this))'.repeat(15)}.count()`;

const codes = (n: number) => ({
  resourceType: 'Bundle',
  entry: Array.from({ length: n }, (_, i) => ({ resource: { resourceType: 'Basic', id: `b${i}` } })),
});

/** Evaluates with the given bounds (instead of the defaults `evaluateFhirPath` uses). */
function evaluate(
  expression: string,
  input: unknown,
  bounds: Partial<FhirPathBounds> = {},
  variables: Record<string, unknown> = {},
): unknown[] {
  const compiled = compileFhirPath(expression);
  if ('error' in compiled) throw new Error(compiled.error);
  const all: FhirPathBounds = { maxCollection: 1_000_000, maxSteps: 100_000_000, maxString: 1_000_000, ...bounds };
  const vars = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, toTypedValue(v)]));
  return withFhirPathBounds(() => evalFhirPathTyped(compiled.atom, [toTypedValue(input)], vars), all).map(
    (v) => v.value,
  );
}

const limitError = (message: RegExp) =>
  expect.objectContaining({ name: 'FhirPathLimitError', message: expect.stringMatching(message) as unknown });

describe('FHIRPath bounds on facts', () => {
  it('stops the doubling fact of a valid rule set with an error naming the fact', async () => {
    const doc = minimalRuleSet();
    doc.facts['doubled'] = DOUBLING;
    expect(DOUBLING.length).toBeLessThanOrEqual(RULE_SET_LIMITS.maxFhirPathLength);
    expect(validateRuleSet(doc).valid).toBe(true);
    const request = orderSignRequest([[{ system: CPT, code: '93456' }]]);
    const failure = evaluateRuleSet(doc, request);
    await expect(failure).rejects.toBeInstanceOf(FhirPathLimitError);
    await expect(failure).rejects.toThrow(
      `Fact "doubled" yields more than ${RULE_SET_LIMITS.maxFhirPathCollection} items at select($this.combine($this))`,
    );
  });

  it('fails each local test case of such a rule set with that error', async () => {
    const doc = minimalRuleSet();
    doc.facts['doubled'] = DOUBLING;
    const request = orderSignRequest([[{ system: CPT, code: '93456' }]]);
    doc.tests = [1, 2].map((n) => ({ name: `case ${n}`, request, expect: { cards: [] } }));
    const results = await runRuleSetTests(doc, { baseDir: '/nonexistent' });
    expect(results).toEqual(
      [1, 2].map((n) => ({
        name: `case ${n}`,
        passed: false,
        diff: expect.stringMatching(/^error: Fact "doubled" yields more than 10000 items/) as unknown,
      })),
    );
  });

  it('bounds every collection, intermediate or final', () => {
    expect(evaluate('entry.resource', codes(5), { maxCollection: 5 })).toHaveLength(5);
    expect(() => evaluate('entry.resource', codes(6), { maxCollection: 5 })).toThrow(
      limitError(/^yields more than 5 items at entry$/),
    );
    // The final collection is small; an intermediate one is not.
    expect(() => evaluate('entry.resource.take(2)', codes(6), { maxCollection: 5 })).toThrow(
      limitError(/yields more than 5 items/),
    );
  });

  it('bounds the total work, also where no collection is large', () => {
    // Each of n items re-reads all n items: n² steps, collections of n.
    const quadratic = 'entry.resource.where(%bundle.entry.resource.id.first() = id)';
    const run = (n: number) => evaluate(quadratic, codes(n), { maxSteps: 20_000 }, { '%bundle': codes(n) });
    expect(run(30)).toHaveLength(1);
    expect(() => run(300)).toThrow(limitError(/^takes more than 20000 FHIRPath steps$/));
  });

  it('charges set operations for their comparisons, by the sizes they compare', () => {
    const bounds = { maxSteps: 2_000 };
    // 300 + 300 items to deduplicate: ~180,000 comparisons, far more than the items themselves.
    const comparisons = (600 * 600) / 2 / SET_COMPARISONS_PER_STEP;
    expect(comparisons).toBeGreaterThan(bounds.maxSteps);
    expect(() => evaluate('(entry.resource.id | entry.resource.id).count()', codes(300), bounds)).toThrow(
      limitError(/FHIRPath steps/),
    );
    expect(() => evaluate('entry.resource.id.union(entry.resource.id).count()', codes(300), bounds)).toThrow(
      limitError(/FHIRPath steps/),
    );
    expect(() => evaluate('entry.resource.id.distinct().count()', codes(600), bounds)).toThrow(
      limitError(/FHIRPath steps/),
    );
    // Against one item, a large input costs what it yields.
    expect(evaluate("entry.resource.id.exclude('b1').count()", codes(300), bounds)).toEqual([299]);
    expect(evaluate('(entry.resource.id | entry.resource.id).count()', codes(30), bounds)).toEqual([30]);
  });

  it('bounds strings built with + and &', () => {
    const doubling = `'ab'${'.select($this + $this)'.repeat(12)}`;
    expect(evaluate(doubling, {}, { maxString: 10_000 })).toEqual(['ab'.repeat(4096)]);
    expect(() => evaluate(`${doubling}.select($this & $this)`, {}, { maxString: 10_000 })).toThrow(
      limitError(/^builds a string longer than 10000 characters at \(\$this & \$this\)$/),
    );
  });

  it('meters each evaluation on its own', () => {
    // About 3 steps per item (entry, resource, id), within 100 for 20 items.
    const bounds = { maxSteps: 100 };
    for (let i = 0; i < 5; i++) expect(evaluate('entry.resource.id', codes(20), bounds)).toHaveLength(20);
    expect(() => evaluate('entry.resource.id', codes(40), bounds)).toThrow(limitError(/FHIRPath steps/));
  });

  it('keeps other evaluation errors an empty result', () => {
    const compiled = compileFhirPath('%undefined.code');
    if ('error' in compiled) throw new Error(compiled.error);
    expect(evaluateFhirPath(compiled.atom, toTypedValue({}), {})).toEqual([]);
  });
});
