import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request, type JsonResponse } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface ResponseEntry {
  resource?: { resourceType: string; id?: string; total?: number; entry?: unknown[] };
  response: { status: string; location?: string; etag?: string; outcome?: { issue: { diagnostics: string }[] } };
}
interface BundleResponse {
  resourceType: string;
  type: string;
  entry: ResponseEntry[];
  issue?: { diagnostics: string; expression?: string[] }[];
}

const patient = (family: string, mrn?: string) => ({
  resourceType: 'Patient',
  name: [{ family }],
  ...(mrn ? { identifier: [{ system: 'urn:mrn', value: mrn }] } : {}),
});
const coverage = (beneficiary: string) => ({
  resourceType: 'Coverage',
  status: 'active',
  beneficiary: { reference: beneficiary },
  payor: [{ display: 'Acme' }],
});
type EntryInput = {
  fullUrl?: string;
  resource?: object;
  request: { method: string; url: string; ifNoneExist?: string };
};
const post = (resource: { resourceType: string; [key: string]: unknown }, fullUrl?: string): EntryInput => ({
  ...(fullUrl ? { fullUrl } : {}),
  resource,
  request: { method: 'POST', url: resource.resourceType },
});

describe.each(['pglite', 'postgres'] as const)('transaction and batch Bundles on %s', (store) => {
  let t: TestServer;
  let fhir: string;
  let token: string;
  let otherToken: string;

  const send = (
    type: 'transaction' | 'batch',
    entry: EntryInput[],
    as = token,
  ): Promise<JsonResponse<BundleResponse>> =>
    request<BundleResponse>(fhir, { method: 'POST', token: as, json: { resourceType: 'Bundle', type, entry } });
  const count = async (query: string, as = token) =>
    (await request<{ total: number }>(`${fhir}/${query}&_total=accurate&_count=0`, { token: as })).body.total;

  beforeAll(async () => {
    t = await startTestServer({ store, redis: store === 'postgres', env: { HOOKBOT_MAX_BUNDLE_ENTRIES: '20' } });
    fhir = `${t.url}/fhir/R4`;
    token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const other = await request<{ client: { clientId: string; clientSecret: string } }>(`${t.url}/admin/projects`, {
      method: 'POST',
      token: admin,
      json: { name: 'other-tenant' },
    });
    otherToken = await getToken(t.url, other.body.client.clientId, other.body.client.clientSecret);
  });
  afterAll(async () => t?.stop());

  it('creates a Patient and a Coverage referring to it by urn:uuid, in one transaction', async () => {
    const res = await send('transaction', [
      post(coverage('urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a')),
      post(patient('Urn', 'urn-1'), 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a'),
    ]);
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    const [cov, pat] = res.body.entry;
    expect(cov?.response.status).toBe('201 Created');
    expect(pat?.response).toMatchObject({ status: '201 Created', etag: 'W/"1"' });
    const patientPath = pat?.response.location?.replace(/\/_history\/1$/, '');
    expect(patientPath).toMatch(/^Patient\/[\w-]+$/);
    const stored = await request<{ beneficiary: { reference: string } }>(
      `${fhir}/${cov?.response.location?.replace(/\/_history\/1$/, '')}`,
      { token },
    );
    expect(stored.body.beneficiary.reference).toBe(patientPath);
  });

  it('rolls the whole transaction back when one entry fails, naming the entry', async () => {
    const res = await send('transaction', [
      post(patient('Rollback', 'rb-1')),
      post({ resourceType: 'Patient', active: 'yes' }),
      { request: { method: 'DELETE', url: 'Patient/does-not-exist' } },
    ]);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[2]');
    const invalid = await send('transaction', [
      post(patient('Rollback', 'rb-1')),
      post({ resourceType: 'Patient', active: 'yes' }),
    ]);
    expect(invalid.status).toBe(400);
    expect(invalid.body.issue?.[0]?.diagnostics).toMatch(/^Bundle\.entry\[1\]/);
    expect(await count('Patient?identifier=urn:mrn|rb-1')).toBe(0);
  });

  it('answers each batch entry on its own', async () => {
    const res = await send('batch', [
      post(patient('Batch', 'batch-1')),
      post({ resourceType: 'Patient', active: 'yes' }),
      { request: { method: 'GET', url: 'Patient?identifier=urn:mrn|batch-1' } },
      { request: { method: 'GET', url: 'Patient/missing' } },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    expect(res.body.entry.map((e) => e.response.status)).toEqual([
      '201 Created',
      '400 Bad Request',
      '200 OK',
      '404 Not Found',
    ]);
    expect(res.body.entry[1]?.response.outcome?.issue[0]?.diagnostics).toBeTruthy();
    expect(res.body.entry[2]?.resource?.entry).toHaveLength(1);
  });

  it('resolves a conditional reference to its one match, and refuses none or several', async () => {
    await send('transaction', [
      post(patient('One', 'cond-1')),
      post(patient('Two', 'cond-2')),
      post(patient('Two', 'cond-2')),
    ]);
    const one = await send('transaction', [post(coverage('Patient?identifier=urn:mrn|cond-1'))]);
    expect(one.status).toBe(200);
    const [match] = (
      await request<{ entry: { resource: { id: string } }[] }>(`${fhir}/Patient?identifier=urn:mrn|cond-1`, { token })
    ).body.entry;
    const created = await request<{ beneficiary: { reference: string } }>(
      `${fhir}/${one.body.entry[0]?.response.location?.replace(/\/_history\/1$/, '')}`,
      { token },
    );
    expect(created.body.beneficiary.reference).toBe(`Patient/${match?.resource.id}`);
    const none = await send('transaction', [post(coverage('Patient?identifier=urn:mrn|cond-0'))]);
    expect(none.status).toBe(400);
    expect(JSON.stringify(none.body)).toContain('matches no resource');
    const several = await send('transaction', [post(coverage('Patient?identifier=urn:mrn|cond-2'))]);
    expect(several.status).toBe(412);
  });

  it("never matches another tenant's resources by a conditional reference", async () => {
    expect((await send('transaction', [post(patient('Other', 'tenant-x'))], otherToken)).status).toBe(200);
    const res = await send('transaction', [post(coverage('Patient?identifier=urn:mrn|tenant-x'))]);
    expect(res.status).toBe(400);
    expect(await count('Coverage?beneficiary:missing=false', otherToken)).toBe(0);
  });

  it('creates once with If-None-Exist, and bounds the number of entries', async () => {
    const entry = {
      ...post(patient('Once', 'once-1')),
      request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:mrn|once-1' },
    };
    expect((await send('transaction', [entry])).body.entry[0]?.response.status).toBe('201 Created');
    expect((await send('transaction', [entry])).body.entry[0]?.response.status).toBe('200 OK');
    expect(await count('Patient?identifier=urn:mrn|once-1')).toBe(1);
    const tooMany = await send(
      'batch',
      Array.from({ length: 21 }, () => post(patient('Many'))),
    );
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.resourceType).toBe('OperationOutcome');
  });

  it('refuses a member-app and an EHR token', async () => {
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    for (const role of ['member-app', 'ehr']) {
      const client = await request<{ clientId: string; clientSecret: string }>(
        `${t.url}/admin/projects/${t.demo.projectId}/clients`,
        { method: 'POST', token: admin, json: { name: `bundle ${role}`, role } },
      );
      const roleToken = await getToken(t.url, client.body.clientId, client.body.clientSecret);
      const res = await send('transaction', [post(patient('Member', `member-${role}`))], roleToken);
      expect(res.status).toBe(403);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect(await count('Patient?identifier=urn:mrn|member-member-app')).toBe(0);
  });
});
