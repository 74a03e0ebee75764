/**
 * Bulk Data export (`$export`) through HTTP, on PGlite and PostgreSQL: kick-off, polling to completion, the NDJSON
 * files holding exactly the project's resources (another tenant holds the same ids and identifiers), `_type`,
 * `_since`, Patient and Group level, cancel, tenant and client binding of the status and file URLs, and a job that
 * resumes after a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pgliteFromTemplate } from '@hookbot/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count: number }[];
  error: unknown[];
}
interface Stored {
  resourceType: string;
  id: string;
  name?: { family: string }[];
  beneficiary?: { reference: string };
}

const ASYNC = { Prefer: 'respond-async' };
const PATIENTS = 12;

/** A transaction of `n` Patients (ids `<prefix>-i`, identifier `urn:mrn|i`) and a Coverage for each. */
function population(prefix: string, family: string, n = PATIENTS) {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: Array.from({ length: n }, (_, i) => [
      {
        resource: {
          resourceType: 'Patient',
          id: `${prefix}-${i}`,
          name: [{ family }],
          identifier: [{ system: 'urn:mrn', value: String(i) }],
        },
        request: { method: 'PUT', url: `Patient/${prefix}-${i}` },
      },
      {
        resource: {
          resourceType: 'Coverage',
          id: `${prefix}-cov-${i}`,
          status: 'active',
          beneficiary: { reference: `Patient/${prefix}-${i}` },
          payor: [{ display: family }],
        },
        request: { method: 'PUT', url: `Coverage/${prefix}-cov-${i}` },
      },
    ]).flat(),
  };
}

/** Kick-off; answers the status URL. */
async function kickoff(fhir: string, token: string, pathAndQuery: string): Promise<string> {
  const res = await request(`${fhir}/${pathAndQuery}`, { token, headers: ASYNC });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const location = res.headers.get('content-location');
  expect(location).toMatch(/\/fhir\/R4\/\$export-status\/[0-9a-f-]+$/);
  return location as string;
}

/** Polls the status URL until it is no longer 202; answers the manifest. */
async function poll(url: string, token: string): Promise<Manifest> {
  for (;;) {
    const res = await request<Manifest>(url, { token });
    if (res.status !== 202) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    }
    expect(res.headers.get('x-progress')).toMatch(/resources exported/);
    expect(res.headers.get('retry-after')).toBe('2');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every resource of every file of the manifest, fetched with the token; checks each line is one resource. */
async function download(manifest: Manifest, token: string): Promise<Stored[]> {
  const all: Stored[] = [];
  for (const file of manifest.output) {
    const res = await fetch(file.url, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+ndjson/);
    const lines = (await res.text()).split('\n').filter(Boolean);
    expect(lines).toHaveLength(file.count);
    const resources = lines.map((line) => JSON.parse(line) as Stored);
    expect(resources.every((r) => r.resourceType === file.type)).toBe(true);
    all.push(...resources);
  }
  return all;
}

const keys = (resources: Stored[]) => resources.map((r) => `${r.resourceType}/${r.id}`).sort();

describe.each(['pglite', 'postgres'] as const)('Bulk Data $export on %s', (store) => {
  let t: TestServer;
  let fhir: string;
  let token: string;
  let otherToken: string;
  /** Another client of the demo project (a bot developer): the same tenant, not the job's client. */
  let colleagueToken: string;

  beforeAll(async () => {
    t = await startTestServer({ store, env: { HOOKBOT_EXPORT_CHUNK: '5', HOOKBOT_EXPORT_MAX_JOBS_PER_PROJECT: '3' } });
    fhir = `${t.url}/fhir/R4`;
    token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const other = await request<{ client: { clientId: string; clientSecret: string } }>(`${t.url}/admin/projects`, {
      method: 'POST',
      token: admin,
      json: { name: 'other-tenant' },
    });
    otherToken = await getToken(t.url, other.body.client.clientId, other.body.client.clientSecret);
    const colleague = await request<{ clientId: string; clientSecret: string }>(
      `${t.url}/admin/projects/${t.demo.projectId}/clients`,
      { method: 'POST', token: admin, json: { name: 'exporter colleague', role: 'bot-developer' } },
    );
    colleagueToken = await getToken(t.url, colleague.body.clientId, colleague.body.clientSecret);
    // The same ids and identifiers in both tenants.
    for (const [as, family] of [
      [token, 'Demo'],
      [otherToken, 'Other'],
    ] as const) {
      const loaded = await request(fhir, { method: 'POST', token: as, json: population('shared', family) });
      expect(loaded.status, JSON.stringify(loaded.body)).toBe(200);
    }
  });
  afterAll(async () => t?.stop());

  /** Every current resource of `type` in the caller's project, by search. */
  const searchAll = async (type: string, as = token) => {
    const res = await request<{ entry?: { resource: Stored }[] }>(`${fhir}/${type}?_count=1000`, { token: as });
    return (res.body.entry ?? []).map((e) => e.resource);
  };

  it('exports exactly the project’s resources, polled to completion, in NDJSON files that need the token', async () => {
    const status = await kickoff(fhir, token, '$export?_type=Patient,Coverage&_outputFormat=application/fhir%2Bndjson');
    const manifest = await poll(status, token);
    expect(manifest.requiresAccessToken).toBe(true);
    expect(manifest.request).toBe(`${fhir}/$export?_type=Patient,Coverage&_outputFormat=application/fhir%2Bndjson`);
    expect(Date.parse(manifest.transactionTime)).not.toBeNaN();
    expect(new Set(manifest.output.map((o) => o.type))).toEqual(new Set(['Patient', 'Coverage']));
    expect(manifest.output.length).toBeGreaterThan(2); // chunks of 5: several files per type
    const exported = await download(manifest, token);
    const expected = [...(await searchAll('Patient')), ...(await searchAll('Coverage'))];
    expect(keys(exported)).toEqual(keys(expected));
    expect(new Set(keys(exported)).size).toBe(exported.length);
    const shared = exported.filter((r) => r.resourceType === 'Patient' && r.id.startsWith('shared-'));
    expect(shared).toHaveLength(PATIENTS);
    expect(shared.every((p) => p.name?.[0]?.family === 'Demo')).toBe(true);
    const payors = exported.filter((r) => r.id.startsWith('shared-cov-')) as { payor?: { display: string }[] }[];
    expect(payors.every((c) => c.payor?.[0]?.display === 'Demo')).toBe(true);

    // The file URLs need a token, of the job's own client.
    const file = manifest.output[0]?.url as string;
    expect((await fetch(file)).status).toBe(401);
    expect((await request(file, { token: otherToken })).status).toBe(404);
    expect((await request(file, { token: colleagueToken })).status).toBe(404);
    expect((await request(status, { token: otherToken })).status).toBe(404);
    expect((await request(status, { token: colleagueToken })).status).toBe(404);
    expect((await request(status, { method: 'DELETE', token: otherToken })).status).toBe(404);
    expect((await request(`${file}9999`, { token })).status).toBe(404);
    // Still there for its owner after the others' attempts.
    expect((await request(status, { token })).status).toBe(200);
  });

  it('exports every type the caller may read without _type, and another tenant’s export holds only its own', async () => {
    const manifest = await poll(await kickoff(fhir, otherToken, '$export'), otherToken);
    const exported = await download(manifest, otherToken);
    const patients = exported.filter((r) => r.resourceType === 'Patient');
    expect(keys(patients)).toEqual(keys(await searchAll('Patient', otherToken)));
    expect(patients.every((p) => p.name?.[0]?.family === 'Other')).toBe(true);
    expect(exported.some((r) => r.resourceType === 'Coverage')).toBe(true);
  });

  it('exports only what changed after _since', async () => {
    const since = new Date().toISOString();
    const changed = await request<Stored>(`${fhir}/Patient/shared-3`, {
      method: 'PUT',
      token,
      json: { resourceType: 'Patient', id: 'shared-3', name: [{ family: 'Changed' }] },
    });
    expect(changed.status).toBe(200);
    const manifest = await poll(
      await kickoff(fhir, token, `$export?_type=Patient,Coverage&_since=${encodeURIComponent(since)}`),
      token,
    );
    const exported = await download(manifest, token);
    expect(keys(exported)).toEqual(['Patient/shared-3']);
    expect(exported[0]?.name?.[0]?.family).toBe('Changed');
  });

  it('exports the Patient compartment at Patient level, and a Group’s members at Group level', async () => {
    const patientLevel = await download(
      await poll(await kickoff(fhir, token, 'Patient/$export?_type=Coverage'), token),
      token,
    );
    const expected = (await searchAll('Coverage')).filter((c) => c.beneficiary?.reference?.startsWith('Patient/'));
    expect(keys(patientLevel)).toEqual(keys(expected));

    const group = await request<{ id: string }>(`${fhir}/Group`, {
      method: 'POST',
      token,
      json: {
        resourceType: 'Group',
        type: 'person',
        actual: true,
        member: [{ entity: { reference: 'Patient/shared-1' } }, { entity: { reference: 'Patient/shared-2' } }],
      },
    });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    const groupLevel = await download(
      await poll(await kickoff(fhir, token, `Group/${group.body.id}/$export?_type=Patient,Coverage`), token),
      token,
    );
    expect(keys(groupLevel)).toEqual([
      'Coverage/shared-cov-1',
      'Coverage/shared-cov-2',
      'Patient/shared-1',
      'Patient/shared-2',
    ]);
    expect(groupLevel.find((r) => r.id === 'shared-1')?.name?.[0]?.family).toBe('Demo');
    // Another tenant's Group reads as missing.
    const res = await request(`${fhir}/Group/${group.body.id}/$export`, { token: otherToken, headers: ASYNC });
    expect(res.status).toBe(404);
  });

  it('takes a POST kick-off with a Parameters body', async () => {
    const res = await request(`${fhir}/Patient/$export`, {
      method: 'POST',
      token,
      headers: ASYNC,
      json: {
        resourceType: 'Parameters',
        parameter: [
          { name: '_type', valueString: 'Patient' },
          { name: 'patient', valueReference: { reference: 'Patient/shared-4' } },
        ],
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const exported = await download(await poll(res.headers.get('content-location') as string, token), token);
    expect(keys(exported)).toEqual(['Patient/shared-4']);
  });

  it('cancels a job with DELETE on its status URL, which then answers 404', async () => {
    const status = await kickoff(fhir, token, '$export');
    const cancelled = await request(status, { method: 'DELETE', token });
    expect(cancelled.status).toBe(202);
    expect((await request(status, { token })).status).toBe(404);
    expect((await request(status, { method: 'DELETE', token })).status).toBe(404);
  });

  it('refuses a kick-off without Prefer: respond-async, with an unknown format, type or parameter', async () => {
    const refused = async (pathAndQuery: string, headers: Record<string, string> = ASYNC) => {
      const res = await request<{ resourceType: string }>(`${fhir}/${pathAndQuery}`, { token, headers });
      expect(res.body.resourceType).toBe('OperationOutcome');
      return res.status;
    };
    expect(await refused('$export', {})).toBe(400);
    expect(await refused('$export?_outputFormat=text/csv')).toBe(400);
    expect(await refused('$export?_type=Observation')).toBe(400);
    expect(await refused('$export?_since=yesterday')).toBe(400);
    expect(await refused('$export?_typeFilter=Patient%3Factive%3Dtrue')).toBe(400);
    expect(await refused('Patient/$export?_type=Organization')).toBe(400);
    // Lenient handling ignores what is not supported.
    const lenient = await request(`${fhir}/$export?_type=Patient&_elements=id`, {
      token,
      headers: { Prefer: 'respond-async, handling=lenient' },
    });
    expect(lenient.status).toBe(202);
    await poll(lenient.headers.get('content-location') as string, token);
    expect((await request(`${fhir}/$export`, { method: 'PUT', token, json: {} })).status).toBe(405);
  });
});

describe('an export running when the server stops (PGlite)', () => {
  let dataDir: string;
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it('resumes when it starts again, and its files hold every resource once', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'hookbot-export-restart-'));
    await pgliteFromTemplate(dataDir);
    const env = { HOOKBOT_EXPORT_CHUNK: '1' };
    const first = await startTestServer({ store: 'pglite', dataDir, env });
    const fhir = `${first.url}/fhir/R4`;
    const token = await getToken(first.url, first.demo.clientId, first.demo.clientSecret);
    const loaded = await request(fhir, { method: 'POST', token, json: population('restart', 'Restart', 30) });
    expect(loaded.status).toBe(200);
    const status = await kickoff(fhir, token, '$export?_type=Patient,Coverage');
    // A chunk of one resource at a time: 60 and more of them are far from done.
    expect((await request(status, { token })).status).toBe(202);
    await first.stop();

    const second = await startTestServer({
      store: 'pglite',
      dataDir,
      env: { ...env, PORT: new URL(first.url).port, BASE_URL: first.url },
    });
    try {
      const manifest = await poll(status, token);
      const exported = await download(manifest, token);
      const patients = await request<{ total: number }>(`${fhir}/Patient?_summary=count`, { token });
      const coverages = await request<{ total: number }>(`${fhir}/Coverage?_summary=count`, { token });
      expect(exported).toHaveLength(patients.body.total + coverages.body.total);
      expect(new Set(keys(exported)).size).toBe(exported.length);
      expect(exported.filter((r) => r.id.startsWith('restart-'))).toHaveLength(60);
    } finally {
      await second.stop();
    }
    // Two server starts in the test itself: on a loaded 2-core machine each may take most of the default 30 s.
  }, 180_000);
});
