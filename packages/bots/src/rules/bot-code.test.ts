import { BotRuntime } from '@hookbot/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import type { CdsRequest } from '../cds/types.js';
import { EXAMPLES_DIR, loadExamples, loadRequest } from './__fixtures__/examples.js';
import { CPT, minimalRuleSet, orderSignRequest } from './__fixtures__/minimal.js';
import { buildRuleBotCode, buildRuleTestBotCode, getRuleRunnerSource } from './bot-code.js';
import { evaluateRuleSet, InvalidRuleSetError } from './run.js';
import { runRuleSetTests } from './test-cases.js';
import type { RuleSetDocument } from './types.js';

const runtime = new BotRuntime();
afterAll(() => runtime.close());
const host = async (): Promise<unknown> => ({ error: 'no clients' });

/** Strips what legitimately differs between two runs at different times (the assertion date). */
const withoutDates = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value).replace(/"valueDate":"[^"]*"/g, '"valueDate":"-"'));

describe('buildRuleBotCode', () => {
  it('bundles the runner once, without jsonpath-plus', async () => {
    const a = await getRuleRunnerSource();
    expect(await getRuleRunnerSource()).toBe(a);
    expect(a).toContain('JSONPath is disabled');
    expect(a).not.toContain('jsonpath-plus');
  });

  it('embeds the rule set as a JSON string, never as code', async () => {
    const doc = minimalRuleSet();
    doc.description = '"; process.exit(1); //</script>\u2028';
    const code = await buildRuleBotCode(doc);
    const runner = await getRuleRunnerSource();
    expect(code).toContain(`var ruleSetJson = ${JSON.stringify(JSON.stringify(doc))};`);
    expect(code.replace(runner, '')).not.toContain('process.exit(1); //</script>\u2028",');
  });

  it('refuses an invalid rule set', async () => {
    await expect(buildRuleBotCode({ id: 'x' })).rejects.toBeInstanceOf(InvalidRuleSetError);
  });

  it.each(loadExamples())('$file gives the same answers in the sandbox as in process', async ({ doc }) => {
    const d = doc as RuleSetDocument;
    const code = await buildRuleBotCode(doc);
    for (const test of d.tests ?? []) {
      const request = (test.request ?? loadRequest(test.requestFile?.replace('../requests/', '') ?? '')) as CdsRequest;
      for (const reuseContext of [false, true]) {
        const result = await runtime.run({
          code: { botId: d.id, version: '1', code, format: 'commonjs' },
          event: request,
          host,
          reuseContext,
        });
        if (!result.ok) throw new Error(`${result.kind}: ${result.message}`);
        const inProcess = await evaluateRuleSet(doc, request);
        expect(withoutDates(result.result)).toEqual(withoutDates(inProcess));
      }
    }
    expect(EXAMPLES_DIR).toBeTruthy();
  });

  it('contains a hostile rule set by the sandbox limits', async () => {
    // Valid, but each fact walks a large request: the sandbox's time limit still applies.
    const doc = minimalRuleSet();
    const code = await buildRuleBotCode(doc);
    const huge: CdsRequest = {
      hook: 'order-sign',
      hookInstance: 'h',
      context: { draftOrders: { resourceType: 'Bundle', entry: [] } },
      prefetch: {
        coverage: {
          resourceType: 'Coverage',
          id: 'c',
          class: Array.from({ length: 200_000 }, () => ({ value: 'x' })),
        } as never,
      },
    };
    const result = await runtime.run({
      code: { botId: 'hostile', version: '1', code, format: 'commonjs' },
      event: huge,
      host,
      limits: { timeoutMs: 50, memoryMb: 64 },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.kind, result.message).toBe('timeout');
  });

  it('builds a test bot whose results in the sandbox are those of runRuleSetTests in process', async () => {
    const doc = minimalRuleSet();
    const pa = orderSignRequest([[{ system: CPT, code: '93456' }]]);
    doc.tests = [
      { name: 'passes', request: pa, expect: { cards: [{ summary: 'Prior auth needed for CPT 93456' }] } },
      { name: 'differs', request: pa, expect: { cards: [] } },
    ];
    const withDoubling = {
      ...doc,
      facts: { ...doc.facts, doubled: `%order.code.coding${'.select($this.combine($this))'.repeat(15)}` },
    };
    for (const d of [doc, withDoubling]) {
      const result = await runtime.run({
        code: {
          botId: `tests-${d.id}`,
          version: String(Object.keys(d.facts).length),
          code: await buildRuleTestBotCode(d),
        },
        event: {},
        host,
        reuseContext: true,
      });
      if (!result.ok) throw new Error(`${result.kind}: ${result.message}`);
      expect(result.result).toEqual(await runRuleSetTests(d, { baseDir: '/nonexistent' }));
      const diffs = (result.result as { diff?: string }[]).map((r) => r.diff?.split('\n')[0]);
      expect(diffs).toEqual(
        d === doc
          ? [undefined, 'cards: expected 0, got 1']
          : Array(2).fill('error: Fact "doubled" yields more than 10000 items at select($this.combine($this))'),
      );
    }
  });

  it('fails a CDS call whose fact crosses a FHIRPath bound with an error naming the fact', async () => {
    const doc = minimalRuleSet();
    doc.facts['doubled'] = `%order.code.coding${'.select($this.combine($this))'.repeat(15)}.count()`;
    const result = await runtime.run({
      code: { botId: 'doubling', version: '1', code: await buildRuleBotCode(doc) },
      event: orderSignRequest([[{ system: CPT, code: '93456' }]]),
      host,
      reuseContext: true,
    });
    expect(result).toMatchObject({
      ok: false,
      kind: 'thrown',
      message: expect.stringContaining('Fact "doubled" yields more than 10000 items') as unknown,
    });
  });
});
