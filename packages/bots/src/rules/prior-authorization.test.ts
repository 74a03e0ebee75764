import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildRuleBotCode } from './bot-code.js';
import { evaluatePriorAuthorization } from './prior-authorization.js';
import { prepareRuleSet } from './run.js';
import { runInlineTestCases } from './run-test-cases.js';
import { runRuleSetTests } from './test-cases.js';
import type { RuleSetDocument } from './types.js';
import { validateRuleSet } from './validate.js';

const example = (): RuleSetDocument =>
  JSON.parse(
    readFileSync(new URL('../../../../examples/rules/pas-cardiac-cath.json', import.meta.url), 'utf8'),
  ) as RuleSetDocument;

const input = (codes: string[], documented: boolean) => ({
  kind: 'pas',
  claim: {
    item: codes.map((code, i) => ({
      sequence: i + 1,
      productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code }] },
    })),
    supportingInfo: documented ? [{ sequence: 1, valueReference: { reference: 'DocumentReference/d' } }] : [],
  },
  member: {
    coverage: { class: [{ type: { coding: [{ code: 'group' }] }, value: 'GRP2245' }] },
  },
  attachments: [],
});

describe('prior-authorization rule sets', () => {
  it('decide each item: certified with a period, pended with the documents wanted, else the default', async () => {
    const compiled = prepareRuleSet(example());
    const decision = await evaluatePriorAuthorization(compiled, input(['93456', '99213'], true), {
      now: new Date('2021-08-23T12:00:00Z'),
    });
    expect(decision.items).toEqual([
      expect.objectContaining({
        sequence: 1,
        action: 'A1',
        issueDate: '2021-08-23',
        period: { start: '2021-08-23', end: '2021-09-23' },
        rule: 'certify-documented',
      }),
      expect.objectContaining({ sequence: 2, action: 'A3', reasonCodes: ['A7'] }),
    ]);
    const pended = await evaluatePriorAuthorization(compiled, { ...input(['93451'], false), sequences: [1] });
    expect(pended.items[0]).toMatchObject({ action: 'A4', documentation: [{ code: '11506-3' }] });
    expect(pended.items[0]?.note).toBe('Pended: send the cardiology progress note for CPT 93451');
  });

  it("pass the example's own test cases", async () => {
    const results = await runRuleSetTests(example(), { baseDir: '.' });
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((r) => !r.passed)).toEqual([]);
  });

  it("pass the example's own test cases in the sandbox runner, which decides items instead of answering a hook", async () => {
    const doc = example();
    const results = await runInlineTestCases(prepareRuleSet(doc));
    expect(results).toHaveLength(doc.tests?.length ?? 0);
    expect(results.filter((r) => !r.passed)).toEqual([]);
  });

  it('refuse pas-decision events outside a prior-authorization rule set, and cards inside one', () => {
    const doc = example();
    const cds = { ...doc, hook: 'order-sign' };
    expect(validateRuleSet(cds).errors.map((e) => e.pointer)).toContain('/rules/0/events/0/type');
    const withCard = example();
    withCard.rules[0]?.events.push({ type: 'card', summary: 'x', indicator: 'info' });
    expect(validateRuleSet(withCard).errors.map((e) => e.pointer)).toContain('/rules/0/events/1/type');
    const modified = example();
    modified.defaultDecision = { action: 'A6' };
    expect(validateRuleSet(modified).errors.map((e) => e.pointer)).toContain('/defaultDecision/authorized');
  });

  it('build sandbox code that dispatches to the prior-authorization evaluator', async () => {
    const code = await buildRuleBotCode(example());
    const module = {
      exports: {} as { handler?: (m: unknown, e: unknown) => Promise<{ items: { action: string }[] }> },
    };
    new Function('exports', 'module', code)(module.exports, module);
    const answer = await module.exports.handler?.({}, { bot: {}, input: input(['93456'], false) });
    expect(answer?.items.map((i) => i.action)).toEqual(['A4']);
  });
});
