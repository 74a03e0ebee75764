import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRuleSetText, validateCdsResponse } from '@hookbot/bots';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

const examples = path.join(import.meta.dirname, '../examples');
const readJson = async (file: string) =>
  JSON.parse(await readFile(path.join(examples, file), 'utf8')) as Record<string, unknown>;
const readRuleSet = async (file: string) =>
  parseRuleSetText(await readFile(path.join(examples, 'rules', file), 'utf8'), file) as Record<string, unknown>;

let t: TestServer;
let token: string;
const fhir = () => `${t.url}/fhir/R4`;

interface Service {
  id: string;
  hook: string;
  title: string;
}

beforeAll(async () => {
  t = await startTestServer({ store: 'pglite' });
  token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
});
afterAll(async () => t?.stop());

async function serviceNamed(title: string): Promise<Service> {
  const res = await request<{ services: Service[] }>(`${t.url}/cds-services`, { token });
  expect(res.status).toBe(200);
  const service = res.body.services.find((s) => s.title === title);
  expect(service, `discovery lists "${title}"`).toBeDefined();
  return service as Service;
}

describe('rule sets as CDS services', () => {
  it('seeds the example rule sets into the demo project, listed by discovery', async () => {
    for (const file of [
      'crd-prior-auth.json',
      'dme-sleep-study.yaml',
      'not-covered-alternative.json',
      'appointment-coverage.yaml',
    ]) {
      const doc = await readRuleSet(file);
      const service = await serviceNamed(doc.title as string);
      expect(service.hook).toBe(doc.hook);
    }
  });

  it('answers a real order-sign request with a validated prior-auth card and coverage-information action', async () => {
    const service = await serviceNamed((await readRuleSet('crd-prior-auth.json')).title as string);
    const res = await request<{ cards: { summary: string; uuid: string }[]; systemActions: { type: string }[] }>(
      `${t.url}/cds-services/${service.id}`,
      {
        method: 'POST',
        token,
        json: await readJson('requests/order-sign-cpt-93456-grp2245.json'),
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.cards.map((c) => c.summary)).toContain('Prior authorization needed for CPT 93456 on plan GRP2245');
    expect(res.body.systemActions.every((a) => a.type === 'update')).toBe(true);
    expect(validateCdsResponse(res.body, { hook: 'order-sign', crd: true }).valid).toBe(true);
  });

  it.each([
    'crd-prior-auth.json',
    'crd-prior-auth-order-select.json',
    'dme-sleep-study.yaml',
    'not-covered-alternative.json',
    'appointment-coverage.yaml',
  ])('%s answers its own test requests over HTTP with validated cards that match its expectations', async (file) => {
    const doc = await readRuleSet(file);
    const service = await serviceNamed(doc.title as string);
    const cases = (doc.tests as { requestFile?: string; expect: { cards?: { summary?: string }[] } }[]).filter(
      (c) => c.requestFile,
    );
    expect(cases.length).toBeGreaterThan(0);
    for (const testCase of cases) {
      const body = JSON.parse(
        await readFile(path.join(examples, 'rules', testCase.requestFile as string), 'utf8'),
      ) as Record<string, unknown>;
      const res = await request<{ cards: { summary: string }[] }>(`${t.url}/cds-services/${service.id}`, {
        method: 'POST',
        token,
        json: body,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(validateCdsResponse(res.body, { hook: doc.hook as string, crd: doc.crd === true }).valid).toBe(true);
      // Test cases run on a fixed clock (2026-01-15); the server uses today's date, so date rules may differ.
      const clockFree = !/"(date\w+|ageAt\w*)"/.test(JSON.stringify(doc.rules));
      const expected = clockFree ? (testCase.expect.cards ?? []).map((c) => c.summary).filter(Boolean) : [];
      for (const summary of expected) expect(res.body.cards.map((c) => c.summary)).toContain(summary);
    }
  });

  it('deploys a rule set over HTTP as a new Bot version each time, and rolls back', async () => {
    const doc = { ...(await readRuleSet('crd-prior-auth.json')), id: 'pa-copy', title: 'PA copy' };
    const first = await request<{ bot: { id: string }; version: string }>(`${fhir()}/Bot/$deploy-rules`, {
      method: 'POST',
      token,
      json: { ruleSet: doc },
    });
    expect(first.status).toBe(201);
    const changed = { ...doc, title: 'PA copy v2' };
    const second = await request<{ bot: { id: string }; version: string }>(`${fhir()}/Bot/$deploy-rules`, {
      method: 'POST',
      token,
      json: { ruleSet: changed },
    });
    expect(second.status).toBe(200);
    expect(second.body.bot.id).toBe(first.body.bot.id);
    expect(second.body.version).not.toBe(first.body.version);
    await serviceNamed('PA copy v2');
    const history = await request<{ entry: unknown[] }>(`${fhir()}/Bot/${first.body.bot.id}/_history`, { token });
    expect(history.body.entry.length).toBeGreaterThanOrEqual(2);
    const rolledBack = await request(`${fhir()}/Bot/${first.body.bot.id}/$rollback`, {
      method: 'POST',
      token,
      json: { version: first.body.version },
    });
    expect(rolledBack.status).toBe(200);
    await serviceNamed('PA copy');
  });

  it('never deploys an invalid rule set, naming the JSON pointer', async () => {
    const doc = {
      ...(await readRuleSet('crd-prior-auth.json')),
      id: 'broken',
      rules: [{ conditions: { all: [{ fact: 'nope', operator: 'equal', value: 1 }] }, events: [] }],
    };
    const res = await request<{ issue: { expression?: string[]; diagnostics: string }[] }>(
      `${fhir()}/Bot/$deploy-rules`,
      { method: 'POST', token, json: { ruleSet: doc } },
    );
    expect(res.status).toBe(400);
    expect(res.body.issue.some((i) => (i.expression ?? [])[0]?.startsWith('/rules/0'))).toBe(true);
    const bots = await request<{ entry?: unknown[] }>(
      `${fhir()}/Bot?identifier=https://hookbot.dev/fhir/rule-set|broken`,
      { token },
    );
    expect(bots.body.entry ?? []).toHaveLength(0);
  });

  it('never reads a request file named by the caller on the server', async () => {
    const doc = await readRuleSet('crd-prior-auth.json');
    const tests = [{ name: 'steal', requestFile: '/proc/self/cwd/data/admin-credentials.json', expect: { cards: [] } }];
    const res = await request<{ issue: { expression?: string[] }[] }>(`${fhir()}/Bot/$test-rules`, {
      method: 'POST',
      token,
      json: { ruleSet: { ...doc, tests } },
    });
    expect(res.status).toBe(400);
    expect(res.body.issue[0]?.expression).toEqual(['/tests/0/requestFile']);
    // The shipped examples use requestFile: the answer says how to send them.
    expect(JSON.stringify(res.body)).toMatch(
      /put the request itself in \\"request\\", or run hookbot rules test FILE --remote/,
    );
    const noScope = await getToken(t.url, t.demo.clientId, t.demo.clientSecret, 'system/Patient.rs');
    const denied = await request(`${fhir()}/Bot/$test-rules`, {
      method: 'POST',
      token: noScope,
      json: { ruleSet: doc },
    });
    expect(denied.status).toBe(403);
  });

  it("runs a rule set's inline tests on the server", async () => {
    const doc = await readRuleSet('crd-prior-auth.json');
    const request0 = await readJson('requests/order-sign-cpt-93456-grp2245.json');
    const tests = [
      {
        name: 'inline PA case',
        request: request0,
        expect: { cards: [{ summary: 'Prior authorization needed for CPT 93456 on plan GRP2245' }] },
      },
      { name: 'deliberately wrong', request: request0, expect: { cards: [] } },
    ];
    const res = await request<{ passed: boolean; results: { name: string; passed: boolean; diff?: string }[] }>(
      `${fhir()}/Bot/$test-rules`,
      {
        method: 'POST',
        token,
        json: { ruleSet: { ...doc, tests } },
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.passed).toBe(false);
    expect(res.body.results.map((r) => r.passed)).toEqual([true, false]);
    expect(res.body.results[1]?.diff).toBeTruthy();
  });
});

describe('Bot/$test-rules in the sandbox', () => {
  // A short time limit keeps the test quick; the rule set must still answer within it.
  const timeoutMs = 3000;
  let s: TestServer;
  let sToken: string;
  beforeAll(async () => {
    s = await startTestServer({ store: 'pglite', env: { HOOKBOT_BOT_TIMEOUT_MS: String(timeoutMs) } });
    sToken = await getToken(s.url, s.demo.clientId, s.demo.clientSecret);
  });
  afterAll(async () => s?.stop());

  it('stops a fact that doubles a collection, case by case, while /healthcheck keeps answering', async () => {
    // Valid (under 500 characters, allowed functions only): 32,768 items per coding, then counted.
    const doubled = `%order.code.coding${'.select($this.combine($this))'.repeat(15)}.count()`;
    const doc = await readRuleSet('crd-prior-auth.json');
    const base = await readJson('requests/order-sign-cpt-93456-grp2245.json');
    const orders = (base.context as { draftOrders: { entry: { resource: { code: { coding: unknown[] } } }[] } })
      .draftOrders.entry;
    for (const { resource } of orders) resource.code.coding = Array(4).fill(resource.code.coding[0]);
    const tests = Array.from({ length: 20 }, (_, i) => ({ name: `case ${i}`, request: base, expect: { cards: [] } }));
    const ruleSet = { ...doc, facts: { ...(doc.facts as object), doubled }, tests };

    let answered = false;
    const testing = request<{ passed: boolean; results: { name: string; passed: boolean; diff?: string }[] }>(
      `${s.url}/fhir/R4/Bot/$test-rules`,
      { method: 'POST', token: sToken, json: { ruleSet } },
    ).finally(() => (answered = true));
    const healthLatencies: number[] = [];
    do {
      const started = performance.now();
      const health = await fetch(`${s.url}/healthcheck`);
      expect(health.status).toBe(200);
      healthLatencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } while (!answered);
    const res = await testing;

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.passed).toBe(false);
    expect(res.body.results).toEqual(
      tests.map((t) => ({
        name: t.name,
        passed: false,
        diff: expect.stringMatching(
          /^error: Fact "doubled" yields more than 10000 items at select\(\$this\.combine\(\$this\)\)/,
        ) as unknown,
      })),
    );
    // The evaluation ran off the event loop (the issue saw /healthcheck wait 19 s).
    expect(Math.max(...healthLatencies)).toBeLessThan(1000);
  });
});
