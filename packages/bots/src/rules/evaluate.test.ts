import { describe, expect, it } from 'vitest';
import { validateCdsResponse } from '../cds/validate-response.js';
import type { CdsRequest } from '../cds/types.js';
import { CPT, minimalRuleSet, orderSignRequest } from './__fixtures__/minimal.js';
import { EXAMPLES_DIR, loadExamples, loadRequest } from './__fixtures__/examples.js';
import { candidateRules, compileRuleSet } from './compile.js';
import { readCoverageInformation } from './coverage.js';
import { evaluateRuleSet, InvalidRuleSetError } from './run.js';
import { runRuleSetTests } from './test-cases.js';
import type { RuleSetDocument } from './types.js';
import { validateRuleSet } from './validate.js';

const now = new Date('2026-01-15T12:00:00Z');

describe('example rule sets', () => {
  const examples = loadExamples();
  it('has the five examples', () => {
    expect(examples.map((e) => e.file)).toEqual([
      'appointment-coverage.yaml',
      'crd-prior-auth-order-select.json',
      'crd-prior-auth.json',
      'dme-sleep-study.yaml',
      'not-covered-alternative.json',
    ]);
  });
  it.each(examples)('$file validates without errors or warnings', ({ doc }) => {
    expect(validateRuleSet(doc)).toEqual({ valid: true, errors: [], warnings: [] });
  });
  it.each(examples)('$file passes its own tests', async ({ doc }) => {
    const results = await runRuleSetTests(doc, { baseDir: EXAMPLES_DIR });
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((r) => !r.passed)).toEqual([]);
  });
  it.each(examples)('$file answers pass the CDS/CRD response validator', async ({ doc }) => {
    const d = doc as RuleSetDocument;
    for (const test of d.tests ?? []) {
      const request = (test.request ?? loadRequest(test.requestFile?.replace('../requests/', '') ?? '')) as CdsRequest;
      const response = await evaluateRuleSet(doc, request, { now });
      const check = validateCdsResponse(response, { hook: request.hook, crd: d.crd ?? false });
      expect(check.errors, `${test.name}: ${JSON.stringify(check.errors)}`).toEqual([]);
    }
  });
});

describe('evaluateRuleSet', () => {
  it('judges each order on its own and emits one coverage action per order', async () => {
    const request = orderSignRequest([[{ system: CPT, code: '93456' }], [{ system: CPT, code: '99213' }]]);
    const response = await evaluateRuleSet(minimalRuleSet(), request, { now });
    expect(response.cards.map((c) => c.summary)).toEqual(['Prior auth needed for CPT 93456']);
    const infos = (response.systemActions ?? []).map(readCoverageInformation);
    expect(infos.map((i) => i?.['pa-needed'])).toEqual([['auth-needed'], ['no-auth']]);
    expect(infos.map((i) => i?.['date'])).toEqual([['2026-01-15'], ['2026-01-15']]);
    // resp-32: one assertion id per coverage within a response
    expect(new Set(infos.map((i) => i?.['coverage-assertion-id']?.[0])).size).toBe(1);
  });

  it('is deterministic for the same hookInstance (same uuids in process and in the sandbox)', async () => {
    const request = orderSignRequest([[{ system: CPT, code: '93456' }]]);
    const a = await evaluateRuleSet(minimalRuleSet(), request, { now });
    const b = await evaluateRuleSet(minimalRuleSet(), request, { now });
    expect(a).toEqual(b);
    expect(a.cards[0]?.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('deduplicates identical cards across orders and matches multiple codings', async () => {
    const request = orderSignRequest([
      [
        { system: 'http://snomed.info/sct', code: '1' },
        { system: CPT, code: '93456' },
      ],
      [{ system: CPT, code: '93456' }],
    ]);
    const response = await evaluateRuleSet(minimalRuleSet(), request, { now });
    expect(response.cards).toHaveLength(1);
    expect(response.systemActions).toHaveLength(2);
  });

  it('returns no coverage action without a Coverage in prefetch, and survives a missing context', async () => {
    const request = orderSignRequest([[{ system: CPT, code: '93456' }]]);
    delete request.prefetch;
    const response = await evaluateRuleSet(minimalRuleSet(), request, { now });
    expect(response.systemActions).toBeUndefined();
    const empty = await evaluateRuleSet(
      minimalRuleSet(),
      { hook: 'order-sign', hookInstance: 'x', context: {} },
      { now },
    );
    expect(empty).toEqual({ cards: [] });
  });

  it('throws InvalidRuleSetError for an invalid document', async () => {
    const doc = { ...minimalRuleSet(), rules: [] };
    await expect(evaluateRuleSet(doc, orderSignRequest([]))).rejects.toBeInstanceOf(InvalidRuleSetError);
  });

  it('does not let __proto__ in a request or path pollute prototypes', async () => {
    const doc = minimalRuleSet();
    doc.rules.push({
      name: 'proto',
      conditions: { all: [{ fact: 'codes', operator: 'equal', value: 'yes', path: '$.polluted' }] },
      events: [{ type: 'card', summary: 'polluted', indicator: 'info' }],
    });
    const request = JSON.parse(
      JSON.stringify(orderSignRequest([[{ system: CPT, code: '1' }]])).replace(
        '"status":"draft"',
        '"__proto__":{"polluted":"yes"},"status":"draft"',
      ),
    ) as CdsRequest;
    const response = await evaluateRuleSet(doc, request, { now });
    expect(response.cards).toEqual([]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('rule index', () => {
  /** n rules "plan P and CPT C": every code once, plans shared. */
  function manyRules(n: number): RuleSetDocument {
    const doc = minimalRuleSet();
    doc.rules = Array.from({ length: n }, (_, i) => ({
      name: `r${i}`,
      conditions: {
        all: [
          { fact: 'plan', operator: 'in', value: [`GRP${i % 10}`, 'GRP2245'] },
          { fact: 'codes', operator: 'codeIn', value: { system: 'cpt', codes: [String(10000 + i)] } },
        ],
      },
      events: [{ type: 'card' as const, summary: `rule ${i}`, indicator: 'info' as const }],
    }));
    doc.rules.push({
      name: 'unindexed',
      conditions: { any: [{ fact: 'plan', operator: 'equal', value: 'NONE' }] },
      events: [{ type: 'card', summary: 'any', indicator: 'info' }],
    });
    return doc;
  }

  it('indexes on the most selective condition and keeps unindexable rules', () => {
    const compiled = compileRuleSet(manyRules(1000));
    expect(compiled.unindexed).toEqual([1000]);
    expect(candidateRules(compiled, { plan: 'GRP2245', codes: [{ system: CPT, code: '10007' }] })).toEqual([7, 1000]);
    expect(candidateRules(compiled, { plan: 'GRP2245', codes: '99999' })).toEqual([1000]);
  });

  it('gives the same answer as running every rule', async () => {
    const doc = manyRules(300);
    const request = orderSignRequest([[{ system: CPT, code: '10042' }], [{ system: CPT, code: '10299' }]], 'GRP2');
    const indexed = await evaluateRuleSet(doc, request, { now });
    // The same rules with the discriminating conditions hidden under `any`, so nothing is indexed.
    const flat = structuredClone(doc);
    for (const rule of flat.rules) rule.conditions = { any: [rule.conditions] };
    expect(compileRuleSet(flat).unindexed).toHaveLength(301);
    const brute = await evaluateRuleSet(flat, request, { now });
    expect(indexed.cards.map((c) => c.summary)).toEqual(['rule 42']);
    expect(brute.cards.map((c) => c.summary)).toEqual(indexed.cards.map((c) => c.summary));
  });
});

describe('runRuleSetTests', () => {
  it('reports a readable diff for a failing case', async () => {
    const doc = minimalRuleSet();
    doc.tests = [
      {
        name: 'wrong expectation',
        request: orderSignRequest([[{ system: CPT, code: '93456' }]]),
        expect: {
          cards: [{ summary: 'No prior auth', indicator: 'info' }],
          coverage: [{ covered: 'covered', paNeeded: 'no-auth' }],
        },
      },
    ];
    const [result] = await runRuleSetTests(doc, { baseDir: '.' });
    expect(result?.passed).toBe(false);
    expect(result?.diff).toBe(
      [
        'cards[0].summary',
        '  - expected: "No prior auth"',
        '  + actual:   "Prior auth needed for CPT 93456"',
        'coverage[0].paNeeded',
        '  - expected: "no-auth"',
        '  + actual:   "auth-needed"',
      ].join('\n'),
    );
  });

  it('reports a missing request file as a failed case', async () => {
    const doc = minimalRuleSet();
    doc.tests = [{ name: 'missing', requestFile: 'nope.json', expect: {} }];
    const [result] = await runRuleSetTests(doc, { baseDir: '/nonexistent' });
    expect(result?.passed).toBe(false);
    expect(result?.diff).toContain('error: ENOENT');
  });
});
