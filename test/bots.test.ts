import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, outcomeIds, request } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
let token: string;
const fhir = () => `${t.url}/fhir/R4`;

beforeAll(async () => {
  t = await startTestServer({ store: 'pglite' });
  token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
});
afterAll(async () => t?.stop());

async function createBot(name: string): Promise<string> {
  const res = await request<{ id: string }>(`${fhir()}/Bot`, {
    method: 'POST',
    token,
    json: { resourceType: 'Bot', name },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

const deploy = (id: string, code: string) =>
  request<Record<string, unknown>>(`${fhir()}/Bot/${id}/$deploy`, {
    method: 'POST',
    token,
    json: { code, filename: 'bot.js' },
  });

async function waitForAudit(
  botId: string,
  count: number,
): Promise<
  { outcome: string; entity: { detail?: { type: string; valueString: string }[] }[]; outcomeDesc?: string }[]
> {
  for (let i = 0; i < 50; i++) {
    const res = await request<{ entry?: { resource: never }[] }>(
      `${fhir()}/AuditEvent?entity=Bot/${botId}&_sort=-_lastUpdated`,
      { token },
    );
    const events = (res.body.entry ?? []).map((e) => e.resource);
    if (events.length >= count) return events;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('AuditEvent not written');
}

describe('deploy and $execute over HTTP', () => {
  it('deploys, executes, audits, redeploys and sees the new behaviour', async () => {
    const id = await createBot('echo');
    const first = await deploy(
      id,
      `exports.handler = async (medplum, event) => { console.log('hello from v1'); return { version: 1, got: event.input }; };`,
    );
    expect(first.status).toBe(200);
    // Medplum's answer: an OperationOutcome whose id is `ok`; the Bot's new version is the ETag.
    expect(first.body).toMatchObject({
      resourceType: 'OperationOutcome',
      id: 'ok',
      issue: [{ severity: 'information', code: 'informational', details: { text: `Deployed Bot/${id} version 2` } }],
    });
    expect(first.headers.get('etag')).toBe('W/"2"');
    const deployed = await request<{ executableCode: { url: string } }>(`${fhir()}/Bot/${id}`, { token });
    expect(deployed.body.executableCode.url).toMatch(/^Binary\//);

    const run1 = await request(`${fhir()}/Bot/${id}/$execute`, { method: 'POST', token, json: { a: 1 } });
    expect(run1.status).toBe(200);
    expect(run1.body).toEqual({ version: 1, got: { a: 1 } });

    const audits = await waitForAudit(id, 1);
    expect(audits[0]?.outcome).toBe('0');
    const log = audits[0]?.entity[0]?.detail?.find((d) => d.type === 'log')?.valueString;
    expect(log).toContain('hello from v1');

    expect(
      (await deploy(id, `export async function handler(medplum, event) { return 'v2:' + event.input.a; }`)).status,
    ).toBe(200);
    const run2 = await request(`${fhir()}/Bot/${id}/$execute`, { method: 'POST', token, json: { a: 2 } });
    expect(run2.status).toBe(200);
    expect(run2.body).toBe('v2:2');
  });

  it("runs the new code once the Binary holding a bot's code is replaced in place (PUT Binary, any media type)", async () => {
    const id = await createBot('replaced in place');
    expect((await deploy(id, `exports.handler = async () => 'before';`)).status).toBe(200);
    const run = () => request(`${fhir()}/Bot/${id}/$execute`, { method: 'POST', token, json: {} });
    expect((await run()).body).toBe('before');
    const bot = await request<{ executableCode: { url: string } }>(`${fhir()}/Bot/${id}`, { token });
    const put = await fetch(`${fhir()}/${bot.body.executableCode.url}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/javascript' },
      body: `exports.handler = async () => 'after';`,
    });
    expect(put.status).toBe(200);
    expect((await run()).body).toBe('after');
  });

  it('refuses code that does not compile, naming the line', async () => {
    const id = await createBot('broken');
    const res = await deploy(id, 'exports.handler = async () => {\n  return {;\n};');
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(/line 2/);
  });

  it('answers 422 when nothing is deployed', async () => {
    const id = await createBot('empty');
    const res = await request(`${fhir()}/Bot/${id}/$execute`, { method: 'POST', token, json: {} });
    expect(res.status).toBe(422);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(outcomeIds(res).requestId).toBe(res.headers.get('x-request-id'));
    expect(res.headers.get('traceparent')).toContain(outcomeIds(res).traceId as string);
  });

  it('reports a bot that throws, times out or returns junk as an OperationOutcome, and keeps serving', async () => {
    const id = await createBot('bad');
    await deploy(id, `exports.handler = async () => { throw new Error('policy table missing'); };`);
    const thrown = await request(`${fhir()}/Bot/${id}/$execute`, { method: 'POST', token, json: {} });
    // The payer's bot failing is the service's fault, not the caller's: 5xx, and the diagnostic says so.
    expect(thrown.status).toBe(500);
    expect(JSON.stringify(thrown.body)).toContain(
      "Bot failed (the payer's bot failed, not the request): policy table missing",
    );
    expect(JSON.stringify(thrown.body)).not.toMatch(/at .*\.ts:\d+/);
    const failure = await waitForAudit(id, 1);
    expect(failure[0]?.outcome).toBe('4');
    expect(failure[0]?.outcomeDesc).toContain('policy table missing');
    const health = await request(`${t.url}/healthcheck`);
    expect(health.status).toBe(200);
  });

  it('lets a bot use the medplum client within its project, and reads project secrets', async () => {
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const settings = await request(`${t.url}/admin/projects/${t.demo.projectId}/settings`, {
      method: 'PUT',
      token: admin,
      json: { secrets: [{ name: 'PAYER_ID', value: 'acme-7f3a9c' }] },
    });
    expect(settings.status).toBe(200);
    // Write-only: the answer names the secret, and the database holds it encrypted.
    expect(settings.body).toEqual({ secrets: [{ name: 'PAYER_ID' }] });
    const stored = await t.server.services.db.query<{ secrets: unknown }>(
      'SELECT secrets FROM projects WHERE id = $1',
      [t.demo.projectId],
    );
    expect(JSON.stringify(stored.rows[0]?.secrets)).not.toContain('acme-7f3a9c');
    expect(JSON.stringify(stored.rows[0]?.secrets)).not.toContain('PAYER_ID');
    const id = await createBot('reader');
    await deploy(
      id,
      `exports.handler = async (medplum, event) => {
        const p = await medplum.createResource({ resourceType: 'Patient', name: [{ family: 'Bixby' }] });
        const found = await medplum.searchResources('Patient', { _id: p.id });
        return { found: found.length, family: (await medplum.readResource('Patient', p.id)).name[0].family, payer: event.secrets.PAYER_ID.valueString };
      };`,
    );
    const res = await request(`${fhir()}/Bot/${id}/$execute`, { method: 'POST', token, json: {} });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ found: 1, family: 'Bixby', payer: 'acme-7f3a9c' });

    // Secrets stored in clear before encryption existed are still read.
    await t.server.services.db.query('UPDATE projects SET secrets = $2::jsonb WHERE id = $1', [
      t.demo.projectId,
      JSON.stringify([{ name: 'PAYER_ID', value: 'legacy' }]),
    ]);
    await t.server.services.settings.changed(t.demo.projectId);
    const legacy = await request(`${fhir()}/Bot/${id}/$execute`, { method: 'POST', token, json: {} });
    expect(legacy.body).toMatchObject({ payer: 'legacy' });
  });

  it('answers GET $execute with the query as input', async () => {
    const id = await createBot('query');
    await deploy(id, `exports.handler = async (medplum, event) => event.input;`);
    const res = await request(`${fhir()}/Bot/${id}/$execute?member=M23462346&plan=GRP2245`, { token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ member: 'M23462346', plan: 'GRP2245' });
  });

  it('bounds a bot that fans out executeBot without awaiting, and refuses its calls once it has answered', async () => {
    const id = await createBot('fan-out');
    await deploy(
      id,
      `exports.handler = async (medplum, event) => {
        for (let i = 0; i < 20; i++) medplum.executeBot(event.bot.reference, {}).catch(() => undefined);
        return 'answered';
      };`,
    );
    const res = await request(`${fhir()}/Bot/${id}/$execute`, { method: 'POST', token, json: {} });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 2000));
    const audits = await request<{ entry?: unknown[] }>(`${fhir()}/AuditEvent?entity=Bot/${id}&_count=500`, { token });
    expect(audits.body.entry?.length).toBeGreaterThan(1);
    expect(audits.body.entry?.length).toBeLessThanOrEqual(25);
  });

  it('contains a bot that calls executeBot on itself, and keeps serving', async () => {
    const id = await createBot('recursive');
    await deploy(
      id,
      `exports.handler = async (medplum, event) => medplum.executeBot(event.bot.reference, event.input);`,
    );
    const res = await request(`${fhir()}/Bot/${id}/$execute`, { method: 'POST', token, json: {} });
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).toMatch(/nesting is limited/);
    expect((await request(`${t.url}/healthcheck`)).status).toBe(200);
  });
});

describe('a bot cannot reach another tenant', () => {
  it('reads, searches and writes only inside its own project', async () => {
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const other = await request<{ client: { clientId: string; clientSecret: string } }>(`${t.url}/admin/projects`, {
      method: 'POST',
      token: admin,
      json: { name: 'other-payer' },
    });
    const otherToken = await getToken(t.url, other.body.client.clientId, other.body.client.clientSecret);
    const secret = await request<{ id: string }>(`${fhir()}/Patient`, {
      method: 'POST',
      token: otherToken,
      json: { resourceType: 'Patient', name: [{ family: 'Secret' }] },
    });
    expect(secret.status).toBe(201);

    const id = await createBot('snoop');
    await deploy(
      id,
      `exports.handler = async (medplum, event) => {
        const out = {};
        try { out.read = await medplum.readResource('Patient', event.input.id); } catch (e) { out.readError = e.message; }
        out.search = (await medplum.searchResources('Patient', { _id: event.input.id })).length;
        try { await medplum.updateResource({ resourceType: 'Patient', id: event.input.id, name: [{ family: 'Owned' }], meta: { versionId: '1' } }); out.update = 'done'; } catch (e) { out.updateError = e.message; }
        try { await medplum.deleteResource('Patient', event.input.id); out.deleted = true; } catch (e) { out.deleteError = e.message; }
        return out;
      };`,
    );
    const res = await request<Record<string, unknown>>(`${fhir()}/Bot/${id}/$execute`, {
      method: 'POST',
      token,
      json: { id: secret.body.id },
    });
    expect(res.status).toBe(200);
    expect(res.body.read).toBeUndefined();
    expect(String(res.body.readError)).toMatch(/not found/i);
    expect(res.body.search).toBe(0);
    const still = await request<{ name: { family: string }[] }>(`${fhir()}/Patient/${secret.body.id}`, {
      token: otherToken,
    });
    expect(still.status).toBe(200);
    expect(still.body.name[0]?.family).toBe('Secret');
  });

  it("never runs one tenant's code for another, even with the same Bot and Binary ids", async () => {
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const mallory = await request<{ client: { clientId: string; clientSecret: string } }>(`${t.url}/admin/projects`, {
      method: 'POST',
      token: admin,
      json: { name: 'mallory' },
    });
    const malloryToken = await getToken(t.url, mallory.body.client.clientId, mallory.body.client.clientSecret);
    const id = await createBot('victim');
    await deploy(id, `exports.handler = async () => 'victim code';`);
    const victimBot = await request<{ executableCode: { url: string } }>(`${fhir()}/Bot/${id}`, { token });
    const binaryId = victimBot.body.executableCode.url.replace('Binary/', '');
    // Mallory recreates both ids in her own project, with her own code.
    const code = Buffer.from(`exports.handler = async (m, event) => ({ stolen: event.secrets });`).toString('base64');
    const put = (path: string, json: object) =>
      request(`${fhir()}/${path}`, { method: 'PUT', token: malloryToken, json });
    expect(
      (
        await put(`Binary/${binaryId}`, {
          resourceType: 'Binary',
          id: binaryId,
          contentType: 'application/javascript',
          data: code,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await put(`Bot/${id}`, {
          resourceType: 'Bot',
          id,
          name: 'x',
          executableCode: { contentType: 'application/javascript', url: `Binary/${binaryId}` },
        })
      ).status,
    ).toBe(201);
    const mine = await request(`${fhir()}/Bot/${id}/$execute`, { method: 'POST', token: malloryToken, json: {} });
    expect(mine.status).toBe(200);
    const victim = await request(`${fhir()}/Bot/${id}/$execute`, { method: 'POST', token, json: {} });
    expect(victim.body).toBe('victim code');
  });
});
