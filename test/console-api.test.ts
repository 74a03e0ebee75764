/**
 * The endpoints the web console uses, with a bearer token as the CLI would: rule-set validation with pointers and
 * positions, fact evaluation and previews in the sandbox, a rule set's versions and their diff, service statistics
 * and the feedback timeline; and the console's static files with their CSP and caching headers.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

const examples = path.join(import.meta.dirname, '../examples');
const readJson = async (file: string) =>
  JSON.parse(await readFile(path.join(examples, file), 'utf8')) as Record<string, unknown>;

let t: TestServer;
let token: string;
let botId: string;
const fhir = () => `${t.url}/fhir/R4`;

beforeAll(async () => {
  t = await startTestServer({ store: 'pglite' });
  token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  const bots = await request<{ entry: { resource: { id: string } }[] }>(
    `${fhir()}/Bot?identifier=https://hookbot.dev/fhir/rule-set|crd-prior-auth`,
    { token },
  );
  botId = bots.body.entry[0]?.resource.id as string;
}, 120_000);
afterAll(async () => t?.stop());

describe('the console API', () => {
  it('validates rule-set text with the CLI’s pointers and messages, and the line of each', async () => {
    const current = await request<{ ruleSet: Record<string, unknown>; version: string }>(
      `${fhir()}/Bot/${botId}/$rule-set`,
      { token },
    );
    expect(current.status).toBe(200);
    const text = JSON.stringify(current.body.ruleSet, null, 2).replace('"cardiacCathCpt"\n', '"cardiacCathCptX"\n');
    const res = await request<{ valid: boolean; errors: { pointer: string; message: string; line?: number }[] }>(
      `${fhir()}/Bot/$validate-rules`,
      { method: 'POST', token, json: { text } },
    );
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    const error = res.body.errors.find((e) => e.pointer === '/rules/0/conditions/all/1/value');
    expect(error?.message).toMatch(/^Operator inValueSet: value must name/);
    expect(error?.line).toBeGreaterThan(1);
    const ok = await request<{ valid: boolean }>(`${fhir()}/Bot/$validate-rules`, {
      method: 'POST',
      token,
      json: { ruleSet: current.body.ruleSet },
    });
    expect(ok.body.valid).toBe(true);
  });

  it('evaluates a fact on a sample request per order, and refuses a forbidden function', async () => {
    const sample = await readJson('requests/order-sign-cpt-93456-grp2245.json');
    const res = await request<{ results: { order: string | null; value: unknown[] }[] }>(
      `${fhir()}/Bot/$evaluate-fact`,
      {
        method: 'POST',
        token,
        json: { fhirpath: "prefetch.coverage.class.where(type.coding.code='group').value", request: sample },
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.results[0]?.value).toEqual(['GRP2245']);
    const codes = await request<{ results: { order: string | null; value: unknown[] }[] }>(
      `${fhir()}/Bot/$evaluate-fact`,
      { method: 'POST', token, json: { fhirpath: '%order.code.coding.code', request: sample } },
    );
    expect(codes.body.results[0]?.order).toMatch(/^ServiceRequest\//);
    expect(codes.body.results[0]?.value).toContain('93456');
    const bad = await request<{ issue: { expression?: string[]; diagnostics?: string }[] }>(
      `${fhir()}/Bot/$evaluate-fact`,
      { method: 'POST', token, json: { fhirpath: '%order.descendants()', request: sample } },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0]?.expression).toEqual(['fhirpath']);
  });

  it('previews the cards a rule set answers to a request, as the CDS call would', async () => {
    const { body } = await request<{ ruleSet: Record<string, unknown> }>(`${fhir()}/Bot/${botId}/$rule-set`, { token });
    const sample = await readJson('requests/order-sign-cpt-93456-grp2245.json');
    const res = await request<{
      valid: boolean;
      response: { cards: { summary: string }[]; systemActions?: unknown[] };
    }>(`${fhir()}/Bot/$preview-rules`, { method: 'POST', token, json: { ruleSet: body.ruleSet, request: sample } });
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(true);
    expect(res.body.response.cards[0]?.summary).toBe('Prior authorization needed for CPT 93456 on plan GRP2245');
    expect(res.body.response.systemActions?.length).toBeGreaterThan(0);
  });

  it('runs the seeded rule set’s own tests (their request files inlined at seeding)', async () => {
    const { body } = await request<{ ruleSet: Record<string, unknown> }>(`${fhir()}/Bot/${botId}/$rule-set`, { token });
    const res = await request<{ passed: boolean; results: unknown[] }>(`${fhir()}/Bot/$test-rules`, {
      method: 'POST',
      token,
      json: { ruleSet: body.ruleSet },
    });
    expect(res.status).toBe(200);
    expect(res.body.results.length).toBeGreaterThan(0);
    expect(res.body.passed).toBe(true);
  });

  it('diffs two versions of a rule set line by line, and refuses a coded bot', async () => {
    const { body } = await request<{ ruleSet: Record<string, unknown>; version: string }>(
      `${fhir()}/Bot/${botId}/$rule-set`,
      { token },
    );
    const changed = { ...body.ruleSet, description: 'A changed description' };
    const deployed = await request<{ version: string }>(`${fhir()}/Bot/$deploy-rules`, {
      method: 'POST',
      token,
      json: { ruleSet: changed },
    });
    expect(deployed.status).toBe(200);
    const diff = await request<{ changed: number; lines: { op: string; text: string }[] }>(
      `${fhir()}/Bot/${botId}/$rule-set-diff?from=${body.version}&to=${deployed.body.version}`,
      { token },
    );
    expect(diff.status).toBe(200);
    expect(diff.body.changed).toBe(2);
    expect(diff.body.lines.filter((l) => l.op === '+').map((l) => l.text.trim())).toEqual([
      '"description": "A changed description",',
    ]);
    const bots = await request<{ entry: { resource: { id: string; executableCode?: { contentType?: string } } }[] }>(
      `${fhir()}/Bot?_count=100`,
      { token },
    );
    const coded = bots.body.entry.find((e) => e.resource.executableCode?.contentType === 'application/javascript');
    const refused = await request(`${fhir()}/Bot/${coded?.resource.id}/$rule-set`, { token });
    expect(refused.status).toBe(422);
  });

  it('counts calls, failures and latency per service, and feedback per day', async () => {
    const sample = await readJson('requests/order-sign-cpt-93456-grp2245.json');
    const call = await request<{ cards: { uuid: string }[] }>(`${t.url}/cds-services/${botId}`, {
      method: 'POST',
      token,
      json: sample,
    });
    expect(call.status).toBe(200);
    const feedback = await request(`${t.url}/cds-services/${botId}/feedback`, {
      method: 'POST',
      token,
      json: {
        feedback: [
          {
            card: call.body.cards[0]?.uuid,
            outcome: 'overridden',
            overrideReason: { reason: { code: 'not-applicable', display: 'Not applicable' } },
            outcomeTimestamp: new Date().toISOString(),
          },
        ],
      },
    });
    expect(feedback.status).toBe(200);
    // The audit trail is written in batches: wait until the call is counted.
    let stats: { services: { id: string; kind: string; calls: number; p50Ms: number | null; daily: unknown[] }[] } = {
      services: [],
    };
    for (let i = 0; i < 50; i++) {
      stats = (await request<typeof stats>(`${t.url}/cds-invocations/stats?days=7`, { token })).body;
      if ((stats.services.find((s) => s.id === botId)?.calls ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const service = stats.services.find((s) => s.id === botId);
    expect(service?.kind).toBe('rule-set');
    expect(service?.calls).toBe(1);
    expect(service?.p50Ms).not.toBeNull();
    expect(service?.daily).toHaveLength(1);
    expect(stats.services.some((s) => s.kind === 'coded')).toBe(true);
    let timeline: { days: { serviceId: string; overridden: number; reasons: Record<string, number> }[] } = { days: [] };
    for (let i = 0; i < 50 && timeline.days.length === 0; i++) {
      timeline = (await request<typeof timeline>(`${t.url}/cds-feedback/timeline?days=30`, { token })).body;
      if (timeline.days.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(timeline.days).toEqual([
      expect.objectContaining({ serviceId: botId, overridden: 1, reasons: { 'Not applicable': 1 } }),
    ]);
    const bad = await request(`${t.url}/cds-invocations/stats?days=365`, { token });
    expect(bad.status).toBe(400);
  });

  it('serves the console with a strict CSP, long-lived hashed assets and an SPA fallback', async () => {
    const index = await fetch(`${t.url}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(index.headers.get('cache-control')).toBe('no-store');
    expect(index.headers.get('content-security-policy')).toMatch(/style-src-elem 'self' 'nonce-[A-Za-z0-9+/=]{24}'/);
    const html = await index.text();
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${t.url}${script}`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    const deep = await fetch(`${t.url}/console/rules/some-bot`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain(`src="${script}"`);
    expect(html).not.toContain('__CSP_NONCE__');
    expect((await fetch(`${t.url}/console/assets/missing.js`)).status).toBe(404);
    // One spelling per page, as for every route.
    expect((await fetch(`${t.url}/console/rules/some-bot/`)).status).toBe(404);
  });
});
