import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRuleSetText, type CdsRequest, type RuleSetDocument } from '@hookbot/bots';
import { BotRuntime } from '@hookbot/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import type { Repository } from '../fhir/repository.js';
import type { Services } from '../services.js';
import { testRuleSet } from './test-rule-set.js';

const examples = path.join(import.meta.dirname, '../../../../examples');
const ruleSet = () =>
  parseRuleSetText(
    readFileSync(path.join(examples, 'rules/crd-prior-auth.json'), 'utf8'),
    'crd-prior-auth.json',
  ) as RuleSetDocument;
const paRequest = () =>
  JSON.parse(readFileSync(path.join(examples, 'requests/order-sign-cpt-93456-grp2245.json'), 'utf8')) as CdsRequest;

const timeoutMs = 400;
const runtime = new BotRuntime({ defaultLimits: { timeoutMs, memoryMb: 64 } });
afterAll(() => runtime.close());
// What the operation reads of the server: the deployed bots' limits and the sandbox configured with them.
const services = { config: { bot: { timeoutMs, memoryMb: 64 } }, runtime } as unknown as Services;
const repo = { access: { projectId: 'p1', allows: () => true } } as unknown as Repository;

describe('testRuleSet', () => {
  it("answers each case's result from the sandbox, under the request's case names", async () => {
    const doc = ruleSet();
    doc.tests = [
      {
        name: 'PA case',
        request: paRequest(),
        expect: { cards: [{ summary: 'Prior authorization needed for CPT 93456 on plan GRP2245' }] },
      },
      { name: 'wrong on purpose', request: paRequest(), expect: { cards: [] } },
    ];
    const report = await testRuleSet(services, repo, { ruleSet: doc });
    expect(report.passed).toBe(false);
    expect(report.results).toEqual([
      { name: 'PA case', passed: true },
      { name: 'wrong on purpose', passed: false, diff: expect.stringMatching(/^cards: expected 0, got 1/) as unknown },
    ]);
  });

  it('fails every case when the run exceeds the time limit of a deployed rule set', async () => {
    // Within the FHIRPath bounds (about 500,000 steps each), but ten such facts take far longer than 400 ms.
    const doc = ruleSet();
    for (let i = 0; i < 10; i++)
      doc.facts[`slow${i}`] = '%order.code.coding.where(%order.code.coding.code.first() = code)';
    const request = paRequest();
    const order = request.context.draftOrders as { entry: { resource: { code: { coding: unknown[] } } }[] };
    for (const { resource } of order.entry) {
      resource.code.coding = Array.from({ length: 500 }, (_, i) => ({ system: 'urn:x', code: String(i) }));
    }
    doc.tests = [1, 2, 3].map((n) => ({ name: `case ${n}`, request, expect: {} }));
    const report = await testRuleSet(services, repo, { ruleSet: doc });
    expect(report).toEqual({
      passed: false,
      results: [1, 2, 3].map((n) => ({
        name: `case ${n}`,
        passed: false,
        diff: `error: the test cases exceeded the sandbox time limit of ${timeoutMs} ms`,
      })),
    });
  });
});
