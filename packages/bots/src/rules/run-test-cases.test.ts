import { afterEach, describe, expect, it, vi } from 'vitest';
import { CPT, minimalRuleSet, orderSignRequest } from './__fixtures__/minimal.js';
import { compileRuleSet } from './compile.js';
import { runInlineTestCases } from './run-test-cases.js';

afterEach(() => vi.restoreAllMocks());

describe('runInlineTestCases', () => {
  const doc = minimalRuleSet();
  const request = orderSignRequest([[{ system: CPT, code: '93456' }]]);
  doc.tests = [
    { name: 'first', request, expect: { cards: [{ summary: 'Prior auth needed for CPT 93456' }] } },
    { name: 'second', request, expect: {} },
    { name: 'from a file', requestFile: 'x.json', expect: {} },
  ];

  it('runs the inline cases and fails one that names a file', async () => {
    expect(await runInlineTestCases(compileRuleSet(doc))).toEqual([
      { name: 'first', passed: true },
      { name: 'second', passed: true },
      { name: 'from a file', passed: false, diff: 'error: the test request must be inline ("request")' },
    ]);
  });

  it('marks the cases not started within the budget as not run', async () => {
    // Each reading of the clock is a second later.
    let clock = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => (clock += 1000));
    const results = await runInlineTestCases(compileRuleSet(doc), { budgetMs: 1500 });
    expect(results).toEqual([
      { name: 'first', passed: true },
      { name: 'second', passed: false, diff: 'error: not run: the test cases took longer than 1500 ms' },
      { name: 'from a file', passed: false, diff: 'error: not run: the test cases took longer than 1500 ms' },
    ]);
  });
});
