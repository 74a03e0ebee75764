import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, outcomeIds, request, type JsonResponse } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Tenant {
  token: string;
  projectId: string;
}

async function newTenant(
  t: TestServer,
  name: string,
  scope?: string,
): Promise<Tenant & { clientId: string; clientSecret: string }> {
  const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
  const res = await request<{ project: { id: string }; client: { clientId: string; clientSecret: string } }>(
    `${t.url}/admin/projects`,
    {
      method: 'POST',
      token: admin,
      json: { name },
    },
  );
  expect(res.status).toBe(201);
  const token = await getToken(t.url, res.body.client.clientId, res.body.client.clientSecret, scope);
  return { token, projectId: res.body.project.id, ...res.body.client };
}

function expectOutcome(res: JsonResponse, status: number, diagnostics?: RegExp): void {
  expect(res.status).toBe(status);
  expect(res.body.resourceType).toBe('OperationOutcome');
  const ids = outcomeIds(res);
  expect(ids.requestId).toBe(res.headers.get('x-request-id'));
  expect(res.headers.get('traceparent')).toContain(ids.traceId as string);
  if (diagnostics) expect(JSON.stringify(res.body)).toMatch(diagnostics);
}

describe.each(['pglite', 'postgres'] as const)('tenant isolation on %s', (store) => {
  let t: TestServer;
  let a: Tenant;
  let b: Tenant;
  let fhir: string;
  let patientA: string;
  let coverageA: string;

  beforeAll(async () => {
    t = await startTestServer({ store, redis: store === 'postgres' });
    fhir = `${t.url}/fhir/R4`;
    a = await newTenant(t, 'tenant-a');
    b = await newTenant(t, 'tenant-b');
    const p = await request<{ id: string }>(`${fhir}/Patient`, {
      method: 'POST',
      token: a.token,
      json: { resourceType: 'Patient', name: [{ family: 'Alpha' }] },
    });
    patientA = p.body.id;
    const c = await request<{ id: string }>(`${fhir}/Coverage`, {
      method: 'POST',
      token: a.token,
      json: {
        resourceType: 'Coverage',
        status: 'active',
        beneficiary: { reference: `Patient/${patientA}` },
        payor: [{ display: 'Acme' }],
      },
    });
    coverageA = c.body.id;
  });
  afterAll(async () => t?.stop());

  it("reads another tenant's resource as 404, exactly like a missing one", async () => {
    expectOutcome(await request(`${fhir}/Patient/${patientA}`, { token: b.token }), 404);
    expectOutcome(await request(`${fhir}/Patient/does-not-exist`, { token: b.token }), 404);
    expect((await request(`${fhir}/Patient/${patientA}`, { token: a.token })).status).toBe(200);
  });

  it('finds nothing of another tenant by search, _id or _include', async () => {
    const search = await request<{ entry?: unknown[]; total?: number }>(
      `${fhir}/Patient?_id=${patientA}&_total=accurate`,
      { token: b.token },
    );
    expect(search.status).toBe(200);
    expect(search.body.entry ?? []).toHaveLength(0);
    const included = await request<{ entry?: unknown[] }>(`${fhir}/Coverage?_include=Coverage:beneficiary`, {
      token: b.token,
    });
    expect(included.body.entry ?? []).toHaveLength(0);
    // B's own Coverage pointing at A's patient must not drag A's patient in.
    await request(`${fhir}/Coverage`, {
      method: 'POST',
      token: b.token,
      json: {
        resourceType: 'Coverage',
        status: 'active',
        beneficiary: { reference: `Patient/${patientA}` },
        payor: [{ display: 'B' }],
      },
    });
    const cross = await request<{ entry?: { resource: { resourceType: string } }[] }>(
      `${fhir}/Coverage?_include=Coverage:beneficiary`,
      { token: b.token },
    );
    expect(cross.body.entry?.map((e) => e.resource.resourceType)).toEqual(['Coverage']);
    const rev = await request<{ entry?: { resource: { resourceType: string } }[] }>(
      `${fhir}/Patient?_revinclude=Coverage:beneficiary`,
      { token: a.token },
    );
    expect(rev.body.entry?.filter((e) => e.resource.resourceType === 'Coverage')).toHaveLength(1);
  });

  it("refuses delete and history across tenants; an update creates in the caller's own project only", async () => {
    expectOutcome(await request(`${fhir}/Coverage/${coverageA}`, { method: 'DELETE', token: b.token }), 404);
    expectOutcome(await request(`${fhir}/Patient/${patientA}/_history`, { token: b.token }), 404);
    // A conditional update answers exactly as for an id that exists nowhere.
    const conditional = (id: string) =>
      request(`${fhir}/Patient/${id}`, {
        method: 'PUT',
        token: b.token,
        headers: { 'If-Match': 'W/"1"' },
        json: { resourceType: 'Patient', id },
      });
    const [cross, missing] = [await conditional(patientA), await conditional('no-such-patient')];
    expectOutcome(cross, missing.status);
    // Without If-Match, PUT is update-as-create: as if A's patient did not exist, B gets its own.
    const upsert = await request<{ meta: { versionId: string } }>(`${fhir}/Patient/${patientA}`, {
      method: 'PUT',
      token: b.token,
      json: { resourceType: 'Patient', id: patientA, name: [{ family: 'Hijack' }] },
    });
    expect(upsert.status).toBe(201);
    expect(upsert.body.meta.versionId).toBe('1');
    const still = await request<{ name: { family: string }[]; meta: { versionId: string } }>(
      `${fhir}/Patient/${patientA}`,
      { token: a.token },
    );
    expect(still.body.name[0]?.family).toBe('Alpha');
    expect(still.body.meta.versionId).toBe('1');
    expect((await request(`${fhir}/Coverage/${coverageA}`, { token: a.token })).status).toBe(200);
  });

  it('ignores a tenant header sent by the caller', async () => {
    const res = await request(`${fhir}/Coverage/${coverageA}`, {
      token: b.token,
      headers: { 'x-tenant-id': a.projectId },
    });
    expect(res.status).toBe(404);
  });
});

describe('FHIR REST', () => {
  let t: TestServer;
  let fhir: string;
  let token: string;

  beforeAll(async () => {
    t = await startTestServer({ store: 'pglite', env: { HOOKBOT_MAX_BODY: '64kb', HOOKBOT_RATE_LIMIT: '400' } });
    fhir = `${t.url}/fhir/R4`;
    token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  });
  afterAll(async () => t?.stop());

  it('creates, reads, versions, updates with If-Match, and deletes', async () => {
    const created = await request<{ id: string; meta: { versionId: string } }>(`${fhir}/Patient`, {
      method: 'POST',
      token,
      json: { resourceType: 'Patient', name: [{ family: 'Bixby' }] },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toContain(`/Patient/${created.body.id}`);
    const id = created.body.id;
    const updated = await request(`${fhir}/Patient/${id}`, {
      method: 'PUT',
      token,
      headers: { 'If-Match': 'W/"1"', 'Content-Type': 'application/fhir+json; charset=utf-8' },
      json: { resourceType: 'Patient', id, name: [{ family: 'Bixby-Smith' }] },
    });
    expect(updated.status).toBe(200);
    expectOutcome(
      await request(`${fhir}/Patient/${id}`, {
        method: 'PUT',
        token,
        headers: { 'If-Match': 'W/"1"' },
        json: { resourceType: 'Patient', id },
      }),
      412,
    );
    const v1 = await request<{ name: { family: string }[] }>(`${fhir}/Patient/${id}/_history/1`, { token });
    expect(v1.body.name[0]?.family).toBe('Bixby');
    const history = await request<{ entry: unknown[] }>(`${fhir}/Patient/${id}/_history`, { token });
    expect(history.body.entry).toHaveLength(2);
    expect((await request(`${fhir}/Patient/${id}`, { method: 'DELETE', token })).status).toBeLessThan(300);
    expect([404, 410]).toContain((await request(`${fhir}/Patient/${id}`, { token })).status);
  });

  it('finds CDS-service Bots with cds-hook:present and by hook', async () => {
    const mk = (json: object) =>
      request(`${fhir}/Bot`, { method: 'POST', token, json: { resourceType: 'Bot', ...json } });
    expect((await mk({ name: 'plain' })).status).toBe(201);
    expect(
      (await mk({ name: 'sign', cdsService: { hook: 'order-sign', title: 'Sign', description: 'On sign' } })).status,
    ).toBe(201);
    expect(
      (await mk({ name: 'view', cdsService: { hook: 'patient-view', title: 'View', description: 'On view' } })).status,
    ).toBe(201);
    const names = async (query: string) =>
      (
        (await request<{ entry?: { resource: { name: string } }[] }>(`${fhir}/Bot?${query}`, { token })).body.entry ??
        []
      )
        .map((e) => e.resource.name)
        .sort();
    expect(await names('cds-hook:present=true&name=sign,view,plain')).toEqual(['sign', 'view']);
    expect(await names('cds-hook:present=false&name=sign,view,plain')).toEqual(['plain']);
    expect(await names('cds-hook=order-sign&name=sign,view,plain')).toEqual(['sign']);
  });

  it.each([
    [{ cdsService: { title: 'x', description: 'y' } }, 'Bot.cdsService.hook'],
    [{ cdsService: { hook: 'order-sign', description: 'y' } }, 'Bot.cdsService.title'],
    [{ cdsService: { hook: 'order-sign', title: 'x' } }, 'Bot.cdsService.description'],
    [
      {
        cdsService: {
          hook: 'order-sign',
          title: 'x',
          description: 'y',
          prefetch: [
            { key: 'p', query: 'Patient/{{context.patientId}}' },
            { key: 'p', query: 'Coverage?patient={{context.patientId}}' },
          ],
        },
      },
      'Bot.cdsService.prefetch[1].key',
    ],
    [
      { cdsService: { hook: 'order-sign', title: 'x', description: 'y', prefetch: [{ key: '', query: 'Patient/1' }] } },
      'Bot.cdsService.prefetch[0].key',
    ],
    [
      {
        cdsService: {
          hook: 'order-sign',
          title: 'x',
          description: 'y',
          prefetch: [{ key: 'p', query: 'https://evil.example/Patient/1' }],
        },
      },
      'Bot.cdsService.prefetch[0].query',
    ],
  ])('rejects an invalid cdsService naming the field (%#)', async (bot, expression) => {
    const res = await request<{ issue: { expression?: string[] }[] }>(`${fhir}/Bot`, {
      method: 'POST',
      token,
      json: { resourceType: 'Bot', name: 'bad', ...bot },
    });
    expectOutcome(res, 400);
    expect(res.body.issue.flatMap((i) => i.expression ?? [])).toContain(expression);
  });

  it('enforces scopes', async () => {
    const readOnly = await getToken(t.url, t.demo.clientId, t.demo.clientSecret, 'system/Patient.rs');
    expect((await request(`${fhir}/Patient`, { token: readOnly })).status).toBe(200);
    expectOutcome(
      await request(`${fhir}/Patient`, { method: 'POST', token: readOnly, json: { resourceType: 'Patient' } }),
      403,
    );
    expectOutcome(await request(`${fhir}/Coverage`, { token: readOnly }), 403);
    // CDS routes need read access to Bot too.
    expectOutcome(await request(`${t.url}/cds-services`, { token: readOnly }), 403);
    const botReader = await getToken(t.url, t.demo.clientId, t.demo.clientSecret, 'system/Bot.rs');
    expect((await request(`${t.url}/cds-services`, { token: botReader })).status).toBe(200);
  });

  it('answers every error as an OperationOutcome with both ids', async () => {
    expectOutcome(await request(`${fhir}/Patient`), 401);
    expectOutcome(await request(`${fhir}/Patient`, { token: 'not-a-token' }), 401);
    expectOutcome(
      await request(`${fhir}/Patient`, {
        method: 'POST',
        token,
        headers: { 'Content-Type': 'application/json' },
        body: '{"resourceType": "Patient",',
      }),
      400,
      /Malformed|JSON/i,
    );
    expectOutcome(
      await request(`${fhir}/Patient`, {
        method: 'POST',
        token,
        headers: { 'Content-Type': 'application/xml' },
        body: '<Patient/>',
      }),
      415,
    );
    expectOutcome(
      await request(`${fhir}/Patient`, {
        method: 'POST',
        token,
        json: { resourceType: 'Patient', text: 'x'.repeat(70 * 1024) },
      }),
      413,
    );
    expectOutcome(await request(`${fhir}/NotAType`, { token }), 400, /NotAType/);
    expectOutcome(await request(`${fhir}/Patient?shoe-size=9`, { token }), 400, /shoe-size/);
    expectOutcome(await request(`${fhir}/Patient`, { method: 'PATCH', token, json: {} }), 405);
    expectOutcome(await request(`${fhir}/Patient`, { method: 'POST', token, json: { resourceType: 'Coverage' } }), 400);
    expectOutcome(
      await request(`${fhir}/Patient`, {
        method: 'POST',
        token,
        json: JSON.parse('{"resourceType":"Patient","__proto__":{"x":1}}'),
      }),
      400,
    );
  });

  it('names a stable Hookbot error code beside the FHIR issue code', async () => {
    const codes = (res: JsonResponse) =>
      (res.body.issue as { details?: { coding?: { system: string; code: string }[] } }[]).flatMap(
        (i) => i.details?.coding?.filter((c) => c.system === 'https://hookbot.dev/fhir/CodeSystem/error') ?? [],
      );
    const cases: [Promise<JsonResponse>, string][] = [
      [request(`${fhir}/Patient`), 'auth.missing-token'],
      [request(`${fhir}/Patient`, { token: 'not-a-token' }), 'auth.invalid-token'],
      [request(`${fhir}/Patient/nope`, { token }), 'fhir.not-found'],
      [request(`${fhir}/Patient?shoe-size=9`, { token }), 'fhir.invalid-search'],
      [request(`${fhir}/Patient`, { method: 'PATCH', token, json: {} }), 'request.method-not-allowed'],
      [request(`${t.url}/nowhere`, { token }), 'route.not-found'],
      [
        request(`${fhir}/Patient`, {
          method: 'POST',
          token,
          headers: { 'Content-Type': 'application/json' },
          body: '{',
        }),
        'request.malformed-json',
      ],
    ];
    for (const [res, code] of cases) expect(codes(await res).map((c) => c.code)).toEqual([code]);
  });

  it('answers 429 once a client exceeds its rate limit', async () => {
    const other = await getToken(t.url, t.demo.clientId, t.demo.clientSecret, 'system/Bot.rs');
    let last: JsonResponse | undefined;
    // The window is a calendar minute: twice the limit plus one guarantees that one window overflows even when the
    // loop straddles a minute boundary.
    for (let i = 0; i < 801 && last?.status !== 429; i++) {
      last = await request(`${fhir}/Bot?_count=1`, { token: other });
    }
    expectOutcome(last as JsonResponse, 429);
    expect(last?.headers.get('retry-after')).toBeTruthy();
  });

  it('serves the CapabilityStatement without a token', async () => {
    const res = await request(`${fhir}/metadata`);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('CapabilityStatement');
  });
});

describe('unexpected failures', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ store: 'pglite' });
  });
  afterAll(async () => t?.stop());

  it('answers 500 with a generic OperationOutcome and both ids, never the cause', async () => {
    const token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    await t.server.services.db.query('ALTER TABLE fhir_resources RENAME TO fhir_resources_gone');
    const res = await request(`${t.url}/fhir/R4/Patient/123`, { token });
    expectOutcome(res, 500, /Internal server error/);
    expect(JSON.stringify(res.body)).not.toMatch(/fhir_resources|relation|at \w+ \(/);
    await t.server.services.db.query('ALTER TABLE fhir_resources_gone RENAME TO fhir_resources');
    expect((await request(`${t.url}/healthcheck`)).status).toBe(200);
  });

  it('answers 409 for a conflicting project name', async () => {
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    expectOutcome(
      await request(`${t.url}/admin/projects`, { method: 'POST', token: admin, json: { name: 'demo' } }),
      409,
      /already exists/,
    );
  });
});
