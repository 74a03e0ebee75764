import { MedplumClient } from '@medplum/core';
import type { Patient } from '@medplum/fhirtypes';
import { signAccessToken } from '@hookbot/server/testing';
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
    t = await startTestServer({ store, redis: store === 'postgres', env: { HOOKBOT_MAX_BUNDLE_ENTRIES: '1000' } });
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

  it('loads a 1,000-entry transaction with internal references, all or nothing', async () => {
    const entries = (last: { resourceType: string; [key: string]: unknown }) =>
      Array.from({ length: 500 }, (_, i) => [
        post(patient('Load', `load-${i}`), `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`),
        post(i === 499 ? last : coverage(`urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)),
      ]).flat();
    const failed = await send('transaction', entries({ resourceType: 'Coverage', status: 'nonsense' }));
    expect(failed.status).toBe(400);
    expect(failed.body.issue?.[0]?.diagnostics).toMatch(/^Bundle\.entry\[999\]/);
    expect(await count('Patient?name=Load')).toBe(0);
    const loaded = await send('transaction', entries(coverage('urn:uuid:00000000-0000-4000-8000-000000000499')));
    expect(loaded.status).toBe(200);
    expect(loaded.body.entry.filter((e) => e.response.status === '201 Created')).toHaveLength(1000);
    expect(await count('Patient?name=Load')).toBe(500);
    const path = (e?: ResponseEntry) => e?.response.location?.replace(/\/_history\/1$/, '');
    const last = await request<{ beneficiary: { reference: string } }>(`${fhir}/${path(loaded.body.entry[999])}`, {
      token,
    });
    expect(last.body.beneficiary.reference).toBe(path(loaded.body.entry[998]));
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
      Array.from({ length: 1001 }, () => post(patient('Many'))),
    );
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.resourceType).toBe('OperationOutcome');
  });

  it('refuses a member-app and an EHR token', async () => {
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const ehr = await request<{ clientId: string; clientSecret: string }>(
      `${t.url}/admin/projects/${t.demo.projectId}/clients`,
      { method: 'POST', token: admin, json: { name: 'bundle ehr', role: 'ehr' } },
    );
    // A member app's token comes from a member's sign-in; signed here with the server's key, as that would be.
    const { services } = t.server;
    const member = await signAccessToken(
      services.key,
      services.config.baseUrl,
      {
        clientId: 'bundle-member-app',
        projectId: t.demo.projectId,
        admin: false,
        role: 'member-app',
        scope: 'patient/*.rs',
        patient: 'member-patient',
        fhirUser: 'Patient/member-patient',
      },
      300,
    );
    const tokens = [member, await getToken(t.url, ehr.body.clientId, ehr.body.clientSecret)];
    for (const [i, roleToken] of tokens.entries()) {
      const res = await send('transaction', [post(patient('Member', `member-${i}`))], roleToken);
      expect(res.status).toBe(403);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect(await count('Patient?identifier=urn:mrn|member-0')).toBe(0);
  });

  it('creates once with the If-None-Exist header, and refuses several matches', async () => {
    const create = () =>
      request<{ id: string }>(`${fhir}/Patient`, {
        method: 'POST',
        token,
        headers: { 'If-None-Exist': 'identifier=urn:mrn|hdr-1' },
        json: patient('Header', 'hdr-1'),
      });
    const first = await create();
    const second = await create();
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body.id).toBe(first.body.id);
    expect(await count('Patient?identifier=urn:mrn|hdr-1')).toBe(1);
    await send('batch', [post(patient('Dup', 'hdr-2')), post(patient('Dup', 'hdr-2'))]);
    const several = await request(`${fhir}/Patient`, {
      method: 'POST',
      token,
      headers: { 'If-None-Exist': 'identifier=urn:mrn|hdr-2' },
      json: patient('Dup', 'hdr-2'),
    });
    expect(several.status).toBe(412);
    expect(several.body.resourceType).toBe('OperationOutcome');
  });

  it('updates and deletes conditionally with 0, 1 and 2 matches', async () => {
    const put = (search: string, body: object) =>
      request<{ id: string; name: { family: string }[] }>(`${fhir}/Patient?${search}`, {
        method: 'PUT',
        token,
        json: body,
      });
    const created = await put('identifier=urn:mrn|cu-1', patient('Zero', 'cu-1'));
    expect(created.status).toBe(201);
    const updated = await put('identifier=urn:mrn|cu-1', patient('One', 'cu-1'));
    expect(updated.status).toBe(200);
    expect(updated.body.id).toBe(created.body.id);
    expect((await put('identifier=urn:mrn|cu-1', { ...patient('One', 'cu-1'), id: 'other-id' })).status).toBe(400);
    await send('batch', [post(patient('Two', 'cu-2')), post(patient('Two', 'cu-2'))]);
    expect((await put('identifier=urn:mrn|cu-2', patient('Two', 'cu-2'))).status).toBe(412);
    expect((await put('', patient('None'))).status).toBe(400);

    const del = (search: string) => request(`${fhir}/Patient?${search}`, { method: 'DELETE', token });
    expect((await del('identifier=urn:mrn|cu-0')).status).toBe(204);
    expect((await del('identifier=urn:mrn|cu-2')).status).toBe(412);
    expect(await count('Patient?identifier=urn:mrn|cu-2')).toBe(2);
    expect((await del('identifier=urn:mrn|cu-1')).status).toBe(204);
    expect(await count('Patient?identifier=urn:mrn|cu-1')).toBe(0);
  });

  it('deletes with If-Match only when the version matches', async () => {
    const created = await request<{ id: string }>(`${fhir}/Patient`, { method: 'POST', token, json: patient('Del') });
    const url = `${fhir}/Patient/${created.body.id}`;
    const stale = await request(url, { method: 'DELETE', token, headers: { 'If-Match': 'W/"2"' } });
    expect(stale.status).toBe(412);
    expect((await request(url, { token })).status).toBe(200);
    expect((await request(url, { method: 'DELETE', token, headers: { 'If-Match': 'W/"1"' } })).status).toBe(204);
  });

  it('patches with a JSON Patch, validated as an update and aware of If-Match', async () => {
    const created = await request<{ id: string }>(`${fhir}/Patient`, { method: 'POST', token, json: patient('Patch') });
    const url = `${fhir}/Patient/${created.body.id}`;
    const patch = (ops: unknown, headers: Record<string, string> = {}) =>
      request<{ name?: { family: string }[]; meta?: { versionId: string } }>(url, {
        method: 'PATCH',
        token,
        headers: { 'Content-Type': 'application/json-patch+json', ...headers },
        body: JSON.stringify(ops),
      });
    const replaced = await patch([{ op: 'replace', path: '/name/0/family', value: 'Patched' }], {
      'If-Match': 'W/"1"',
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.name?.[0]?.family).toBe('Patched');
    expect(replaced.body.meta?.versionId).toBe('2');
    expect(
      (await patch([{ op: 'add', path: '/birthDate', value: '1970-01-01' }], { 'If-Match': 'W/"1"' })).status,
    ).toBe(412);
    expect((await patch([{ op: 'add', path: '/active', value: 'yes' }])).status).toBe(400);
    expect((await patch([{ op: 'test', path: '/name/0/family', value: 'Other' }])).status).toBe(422);
    expect((await patch([{ op: 'remove', path: '/nothing/here' }])).status).toBe(400);
    expect((await patch({ op: 'replace' })).status).toBe(400);
    const asJson = await request(url, { method: 'PATCH', token, json: [{ op: 'remove', path: '/name' }] });
    expect(asJson.status).toBe(415);
    const current = await request<{ name: { family: string }[]; meta: { versionId: string } }>(url, { token });
    expect([current.body.name[0]?.family, current.body.meta.versionId]).toEqual(['Patched', '2']);
  });

  it("serves MedplumClient's conditional create, upsert, patch and batch", async () => {
    const medplum = new MedplumClient({ baseUrl: `${t.url}/`, fetch: globalThis.fetch.bind(globalThis) });
    await medplum.startClientLogin(t.demo.clientId, t.demo.clientSecret);
    const input: Patient = { resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: 'medplum-1' }] };
    const first = await medplum.createResourceIfNoneExist(input, 'identifier=urn:mrn|medplum-1');
    const again = await medplum.createResourceIfNoneExist(input, 'identifier=urn:mrn|medplum-1');
    expect(again.id).toBe(first.id);
    const upserted = await medplum.upsertResource({ ...input, active: true }, { identifier: 'urn:mrn|medplum-1' });
    expect([upserted.id, upserted.meta?.versionId]).toEqual([first.id, '2']);
    const patched = await medplum.patchResource('Patient', first.id as string, [
      { op: 'add', path: '/gender', value: 'female' },
    ]);
    expect(patched).toMatchObject({ gender: 'female', active: true, meta: { versionId: '3' } });
    const result = await medplum.executeBatch({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:7d3c3a4e-1f7e-4a53-9d43-0d2f1f3b8f10',
          request: { method: 'POST', url: 'Patient' },
          resource: { resourceType: 'Patient' },
        },
        {
          request: { method: 'POST', url: 'Coverage' },
          resource: {
            ...coverage('urn:uuid:7d3c3a4e-1f7e-4a53-9d43-0d2f1f3b8f10'),
            status: 'active' as const,
            resourceType: 'Coverage' as const,
          },
        },
      ],
    });
    expect(result.entry?.map((e) => e.response?.status)).toEqual(['201 Created', '201 Created']);
  });
});
