/**
 * The FHIR API's reads and writes beyond the plain interactions, through HTTP on both stores: conditional reads
 * (304) and `If-Match` on every write, FHIRPath Patch (also inside Bundles), type and system history, `_summary`,
 * `_elements`, `_total` and content negotiation (406), never crossing a tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request, type JsonResponse } from './support/http.js';
import { memberToken } from './support/member-launch.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Resource {
  resourceType: string;
  id: string;
  meta?: { versionId?: string; lastUpdated?: string; tag?: { system?: string; code?: string }[] };
  [key: string]: unknown;
}
interface Bundle {
  resourceType: string;
  type: string;
  total?: number;
  link?: { relation: string; url: string }[];
  entry?: {
    fullUrl?: string;
    resource?: Resource;
    request?: { method: string; url: string };
    response?: { status: string; etag?: string; location?: string; outcome?: { issue: { diagnostics: string }[] } };
  }[];
  issue?: { diagnostics: string; details?: { coding?: { code?: string }[] } }[];
}

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
const errorCode = (res: JsonResponse<Bundle>) =>
  res.body.issue?.[0]?.details?.coding?.find((c) => c.code?.includes('.'))?.code;
const op = (parts: Record<string, unknown>[]) => ({ name: 'operation', part: parts });
const fhirPathPatch = (...operations: { name: string; part: Record<string, unknown>[] }[]) => ({
  resourceType: 'Parameters',
  parameter: operations,
});

describe.each(['pglite', 'postgres'] as const)('FHIR reads, conditions, patches and history on %s', (store) => {
  let t: TestServer;
  let fhir: string;
  let token: string;
  let otherToken: string;

  const call = (path: string, init: RequestInit & { json?: unknown; token?: string } = {}) =>
    request<Bundle & Resource>(`${fhir}/${path}`, { token, ...init });
  const create = async (resource: Record<string, unknown>, as = token): Promise<Resource> => {
    const res = await call(String(resource.resourceType), { method: 'POST', json: resource, token: as });
    expect(res.status).toBe(201);
    return res.body;
  };
  const patient = (family: string, extra: Record<string, unknown> = {}) => ({
    resourceType: 'Patient',
    name: [{ family, given: ['Ann'] }],
    gender: 'female',
    birthDate: '1980-02-03',
    maritalStatus: { text: 'married' },
    ...extra,
  });

  beforeAll(async () => {
    t = await startTestServer({ store, redis: store === 'postgres' });
    fhir = `${t.url}/fhir/R4`;
    token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const other = await request<{ client: { clientId: string; clientSecret: string } }>(`${t.url}/admin/projects`, {
      method: 'POST',
      token: admin,
      json: { name: 'other-tenant-read' },
    });
    otherToken = await getToken(t.url, other.body.client.clientId, other.body.client.clientSecret);
  });
  afterAll(async () => t?.stop());

  describe('conditional reads and writes', () => {
    it('answers 304 with no body to If-None-Match and If-Modified-Since, 200 otherwise', async () => {
      const p = await create(patient('Etag'));
      const lastModified = new Date(Date.parse(p.meta?.lastUpdated ?? '') + 1000).toUTCString();
      const conditions: Record<string, string>[] = [
        { 'If-None-Match': 'W/"1"' },
        { 'If-None-Match': '*' },
        { 'If-Modified-Since': lastModified },
      ];
      for (const headers of conditions) {
        const res = await call(`Patient/${p.id}`, { headers });
        expect(res.status).toBe(304);
        expect(res.body).toBeUndefined();
        expect(res.headers.get('etag')).toBe('W/"1"');
      }
      const vread = await call(`Patient/${p.id}/_history/1`, { headers: { 'If-None-Match': 'W/"1"' } });
      expect(vread.status).toBe(304);
      expect((await call(`Patient/${p.id}`, { headers: { 'If-None-Match': 'W/"2"' } })).status).toBe(200);
      const before = new Date(Date.parse(p.meta?.lastUpdated ?? '') - 60_000).toUTCString();
      expect((await call(`Patient/${p.id}`, { headers: { 'If-Modified-Since': before } })).status).toBe(200);
      const bad = await call(`Patient/${p.id}`, { headers: { 'If-Modified-Since': 'yesterday' } });
      expect(bad.status).toBe(400);
      expect((await call(`Patient/${p.id}`, { headers: { 'If-Match': 'W/"9"' } })).status).toBe(412);
    });

    it('refuses conditions an interaction does not take with an OperationOutcome', async () => {
      const p = await create(patient('Refused'));
      const cases: [string, RequestInit & { json?: unknown }][] = [
        [`Patient/${p.id}`, { method: 'PUT', json: { ...p }, headers: { 'If-None-Match': '*' } }],
        [`Patient/${p.id}`, { method: 'DELETE', headers: { 'If-Modified-Since': new Date().toUTCString() } }],
        ['Patient', { method: 'POST', json: patient('X'), headers: { 'If-Match': 'W/"1"' } }],
        ['Patient?name=Refused', { headers: { 'If-None-Match': '*' } }],
        [`Patient/${p.id}`, { headers: { 'If-None-Exist': 'name=x' } }],
      ];
      for (const [path, init] of cases) {
        const res = await call(path, init);
        expect(res.status, `${init.method ?? 'GET'} ${path}`).toBe(400);
        expect(errorCode(res)).toBe('fhir.unsupported-condition');
      }
      expect((await call(`Patient/${p.id}`)).body.meta?.versionId).toBe('1');
    });

    it('applies If-Match to update, patch, delete, conditional update and conditional delete', async () => {
      const p = await create(patient('IfMatch', { identifier: [{ system: 'urn:ifmatch', value: 'a' }] }));
      const stale = { 'If-Match': 'W/"7"' };
      const patch = [{ op: 'replace', path: '/gender', value: 'male' }];
      const json = {
        headers: { ...stale, 'Content-Type': 'application/json-patch+json' },
        body: JSON.stringify(patch),
      };
      expect((await call(`Patient/${p.id}`, { method: 'PUT', json: p, headers: stale })).status).toBe(412);
      expect((await call(`Patient/${p.id}`, { method: 'PATCH', ...json })).status).toBe(412);
      expect((await call(`Patient/${p.id}`, { method: 'DELETE', headers: stale })).status).toBe(412);
      const search = 'Patient?identifier=urn:ifmatch|a';
      expect((await call(search, { method: 'PUT', json: { ...p, id: undefined }, headers: stale })).status).toBe(412);
      expect((await call(search, { method: 'DELETE', headers: stale })).status).toBe(412);
      expect((await call('Patient?identifier=urn:ifmatch|none', { method: 'DELETE', headers: stale })).status).toBe(
        412,
      );
      expect((await call(`Patient/${p.id}`)).body.meta?.versionId).toBe('1');
      expect((await call(search, { method: 'DELETE', headers: { 'If-Match': 'W/"1"' } })).status).toBe(204);
      expect((await call(`Patient/${p.id}`)).status).toBe(410);
    });

    it('refuses a conditional delete or update whose only parameters shape results (no criteria)', async () => {
      // The other tenant holds one Practitioner: a search without criteria would match it alone.
      const only = await create({ resourceType: 'Practitioner', name: [{ family: 'Only' }] }, otherToken);
      for (const search of ['Practitioner?_count=1', 'Practitioner?_sort=name&_summary=true']) {
        const deleted = await call(search, { method: 'DELETE', token: otherToken });
        expect(deleted.status).toBe(400);
        expect(errorCode(deleted)).toBe('fhir.invalid-search');
        const updated = await call(search, {
          method: 'PUT',
          token: otherToken,
          json: { resourceType: 'Practitioner', name: [{ family: 'Replaced' }] },
        });
        expect(updated.status).toBe(400);
      }
      expect((await call(`Practitioner/${only.id}`, { token: otherToken })).body).toMatchObject({
        name: [{ family: 'Only' }],
        meta: { versionId: '1' },
      });
    });
  });

  describe('FHIRPath Patch', () => {
    const patchWith = (id: string, body: unknown, headers: Record<string, string> = {}, as = token) =>
      call(`Patient/${id}`, {
        method: 'PATCH',
        token: as,
        headers: { 'Content-Type': 'application/fhir+json', ...headers },
        body: JSON.stringify(body),
      });

    it('applies add, insert, replace, delete and move, as an update', async () => {
      const p = await create(
        patient('Path', {
          identifier: [
            { system: 'urn:a', value: '1' },
            { system: 'urn:b', value: '2' },
          ],
        }),
      );
      const res = await patchWith(
        p.id,
        fhirPathPatch(
          op([
            { name: 'type', valueCode: 'replace' },
            { name: 'path', valueString: 'Patient.birthDate' },
            { name: 'value', valueDate: '1981-04-05' },
          ]),
          op([
            { name: 'type', valueCode: 'add' },
            { name: 'path', valueString: 'Patient' },
            { name: 'name', valueString: 'telecom' },
            { name: 'value', valueContactPoint: { system: 'phone', value: '555' } },
          ]),
          op([
            { name: 'type', valueCode: 'add' },
            { name: 'path', valueString: 'Patient' },
            { name: 'name', valueString: 'deceased' },
            { name: 'value', valueBoolean: false },
          ]),
          op([
            { name: 'type', valueCode: 'insert' },
            { name: 'path', valueString: 'Patient.name' },
            { name: 'index', valueInteger: 0 },
            { name: 'value', valueHumanName: { family: 'First' } },
          ]),
          op([
            { name: 'type', valueCode: 'move' },
            { name: 'path', valueString: 'Patient.identifier' },
            { name: 'source', valueInteger: 1 },
            { name: 'destination', valueInteger: 0 },
          ]),
          op([
            { name: 'type', valueCode: 'delete' },
            { name: 'path', valueString: "Patient.identifier.where(system = 'urn:a')" },
          ]),
          op([
            { name: 'type', valueCode: 'delete' },
            { name: 'path', valueString: 'Patient.maritalStatus' },
          ]),
        ),
        { 'If-Match': 'W/"1"' },
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        birthDate: '1981-04-05',
        telecom: [{ system: 'phone', value: '555' }],
        deceasedBoolean: false,
        name: [{ family: 'First' }, { family: 'Path' }],
        identifier: [{ system: 'urn:b', value: '2' }],
        meta: { versionId: '2' },
      });
      expect(res.body.maritalStatus).toBeUndefined();
    });

    it('answers 412 on a stale If-Match and 400 on an operation that cannot apply, changing nothing', async () => {
      const p = await create(patient('PathBad'));
      const replace = fhirPathPatch(
        op([
          { name: 'type', valueCode: 'replace' },
          { name: 'path', valueString: 'Patient.gender' },
          { name: 'value', valueCode: 'male' },
        ]),
      );
      expect((await patchWith(p.id, replace, { 'If-Match': 'W/"2"' })).status).toBe(412);
      const bad = await patchWith(
        p.id,
        fhirPathPatch(
          op([
            { name: 'type', valueCode: 'replace' },
            { name: 'path', valueString: 'Patient.telecom' },
          ]),
        ),
      );
      expect(bad.status).toBe(400);
      expect(errorCode(bad)).toBe('fhir.invalid-patch');
      const invalid = await patchWith(
        p.id,
        fhirPathPatch(
          op([
            { name: 'type', valueCode: 'replace' },
            { name: 'path', valueString: 'Patient.gender' },
            { name: 'value', valueInteger: 3 },
          ]),
        ),
      );
      expect(invalid.status).toBe(400);
      expect((await call(`Patient/${p.id}`)).body).toMatchObject({ gender: 'female', meta: { versionId: '1' } });
      // Another tenant's resource is missing, patched or not.
      expect((await patchWith(p.id, replace, {}, otherToken)).status).toBe(404);
    });

    it("refuses a patch that changes the resource's type, writing nothing", async () => {
      // Organization has `active` too: the patched Patient is a valid Organization.
      const p = await create({ resourceType: 'Patient', active: true });
      const retype = (operation: 'replace' | 'delete-add') =>
        fhirPathPatch(
          ...(operation === 'replace'
            ? [
                op([
                  { name: 'type', valueCode: 'replace' },
                  { name: 'path', valueString: 'Patient.resourceType' },
                  { name: 'value', valueString: 'Organization' },
                ]),
              ]
            : [
                op([
                  { name: 'type', valueCode: 'delete' },
                  { name: 'path', valueString: 'Patient.resourceType' },
                ]),
              ]),
        );
      for (const body of [retype('replace'), retype('delete-add')]) {
        const res = await patchWith(p.id, body);
        expect(res.status).toBe(400);
        expect(errorCode(res)).toBe('fhir.invalid-resource');
      }
      expect((await call(`Organization/${p.id}`)).status).toBe(404);
      expect((await call(`Patient/${p.id}`)).body).toMatchObject({ meta: { versionId: '1' } });
    });
  });

  describe('PATCH entries and conditional PUT in Bundles', () => {
    const binaryPatch = (patch: unknown) => ({
      resourceType: 'Binary',
      contentType: 'application/json-patch+json',
      data: Buffer.from(JSON.stringify(patch)).toString('base64'),
    });

    it('patches by JSON Patch (Binary) and FHIRPath Patch (Parameters) in a transaction and a batch', async () => {
      const a = await create(patient('BundlePatchA'));
      const b = await create(patient('BundlePatchB'));
      const tx = await request<Bundle>(fhir, {
        method: 'POST',
        token,
        json: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            {
              resource: binaryPatch([{ op: 'replace', path: '/gender', value: 'male' }]),
              request: { method: 'PATCH', url: `Patient/${a.id}`, ifMatch: 'W/"1"' },
            },
            {
              resource: fhirPathPatch(
                op([
                  { name: 'type', valueCode: 'replace' },
                  { name: 'path', valueString: 'Patient.gender' },
                  { name: 'value', valueCode: 'other' },
                ]),
              ),
              request: { method: 'PATCH', url: `Patient/${b.id}` },
            },
          ],
        },
      });
      expect(tx.status).toBe(200);
      expect(tx.body.entry?.map((e) => e.response?.status)).toEqual(['200 OK', '200 OK']);
      expect((await call(`Patient/${a.id}`)).body.gender).toBe('male');
      expect((await call(`Patient/${b.id}`)).body.gender).toBe('other');

      const batch = await request<Bundle>(fhir, {
        method: 'POST',
        token,
        json: {
          resourceType: 'Bundle',
          type: 'batch',
          entry: [
            {
              resource: binaryPatch([{ op: 'replace', path: '/gender', value: 'female' }]),
              request: { method: 'PATCH', url: `Patient/${a.id}`, ifMatch: 'W/"1"' },
            },
            {
              resource: binaryPatch([{ op: 'replace', path: '/gender', value: 'female' }]),
              request: { method: 'PATCH', url: `Patient/${b.id}`, ifMatch: 'W/"2"' },
            },
            { resource: patient('NotAPatch'), request: { method: 'PATCH', url: `Patient/${b.id}` } },
            { request: { method: 'GET', url: `Patient/${a.id}`, ifNoneMatch: 'W/"2"' } },
            { request: { method: 'GET', url: `Patient/${a.id}?_elements=gender` } },
          ],
        },
      });
      expect(batch.status).toBe(200);
      expect(batch.body.entry?.map((e) => e.response?.status)).toEqual([
        '412 Precondition Failed',
        '200 OK',
        '400 Bad Request',
        '304 Not Modified',
        '200 OK',
      ]);
      expect(batch.body.entry?.[3]?.resource).toBeUndefined();
      const subset = batch.body.entry?.[4]?.resource;
      expect(Object.keys(subset ?? {}).sort()).toEqual(['gender', 'id', 'meta', 'resourceType']);
      expect(subset?.meta?.tag).toContainEqual(SUBSETTED);
    });

    it('lets entries refer to a conditional PUT by its fullUrl, whether it matches or creates', async () => {
      await create(patient('CondPut', { identifier: [{ system: 'urn:condput', value: 'one' }] }));
      const coverage = (ref: string) => ({
        resourceType: 'Coverage',
        status: 'active',
        beneficiary: { reference: ref },
        payor: [{ display: 'Acme' }],
      });
      const res = await request<Bundle>(fhir, {
        method: 'POST',
        token,
        json: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            {
              fullUrl: 'urn:uuid:4a3c7a5e-1b0e-4df0-9d63-1f0f4e1f0a01',
              resource: patient('CondPut', { identifier: [{ system: 'urn:condput', value: 'one' }] }),
              request: { method: 'PUT', url: 'Patient?identifier=urn:condput|one' },
            },
            {
              fullUrl: 'urn:uuid:4a3c7a5e-1b0e-4df0-9d63-1f0f4e1f0a02',
              resource: patient('CondPutNew', { identifier: [{ system: 'urn:condput', value: 'two' }] }),
              request: { method: 'PUT', url: 'Patient?identifier=urn:condput|two' },
            },
            {
              resource: coverage('urn:uuid:4a3c7a5e-1b0e-4df0-9d63-1f0f4e1f0a01'),
              request: { method: 'POST', url: 'Coverage' },
            },
            {
              resource: coverage('urn:uuid:4a3c7a5e-1b0e-4df0-9d63-1f0f4e1f0a02'),
              request: { method: 'POST', url: 'Coverage' },
            },
          ],
        },
      });
      expect(res.status).toBe(200);
      const [updated, created, covA, covB] = res.body.entry ?? [];
      expect(updated?.response?.status).toBe('200 OK');
      expect(created?.response?.status).toBe('201 Created');
      const idOf = (location?: string) => location?.split('/_history')[0];
      for (const [cov, target] of [
        [covA, updated],
        [covB, created],
      ] as const) {
        const stored = await call(idOf(cov?.response?.location) ?? '');
        expect((stored.body.beneficiary as { reference: string }).reference).toBe(idOf(target?.response?.location));
      }
    });
  });

  describe('history', () => {
    it('pages type and system history newest first, with _since, deletions included, one tenant only', async () => {
      const since = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const p = await create({ resourceType: 'Practitioner', name: [{ family: 'Hist1' }] });
      await call(`Practitioner/${p.id}`, { method: 'PUT', json: { ...p, name: [{ family: 'Hist2' }] } });
      const q = await create({ resourceType: 'Practitioner', name: [{ family: 'Hist3' }] });
      await call(`Practitioner/${q.id}`, { method: 'DELETE' });
      await create({ resourceType: 'Practitioner', name: [{ family: 'Foreign' }] }, otherToken);

      const first = await call(`Practitioner/_history?_since=${encodeURIComponent(since)}&_count=3&_total=accurate`);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ type: 'history', total: 4 });
      expect(first.body.entry?.map((e) => `${e.request?.method} ${e.response?.etag}`)).toEqual([
        'DELETE W/"2"',
        'POST W/"1"',
        'PUT W/"2"',
      ]);
      const next = first.body.link?.find((l) => l.relation === 'next')?.url ?? '';
      expect(next).toContain('_offset=3');
      const second = await request<Bundle>(next, { token });
      expect(second.body.entry?.map((e) => e.resource?.name)).toEqual([[{ family: 'Hist1' }]]);
      expect(second.body.link?.find((l) => l.relation === 'next')).toBeUndefined();

      const system = await call(`_history?_since=${encodeURIComponent(since)}&_count=100`);
      expect(system.status).toBe(200);
      const types = new Set(system.body.entry?.map((e) => e.fullUrl?.split('/').at(-2)));
      expect(types.has('Practitioner')).toBe(true);
      const families = JSON.stringify(system.body.entry);
      expect(families).toContain('Hist3');
      expect(families).not.toContain('Foreign');
      const foreign = await request<Bundle>(`${fhir}/Practitioner/_history?_since=${encodeURIComponent(since)}`, {
        token: otherToken,
      });
      expect(foreign.body.entry?.map((e) => e.resource?.name)).toEqual([[{ family: 'Foreign' }]]);
      expect((await call('Practitioner/_history?_since=yesterday')).status).toBe(400);
      expect((await call('Practitioner/_history?family=Hist1')).status).toBe(400);
      expect((await call('_history', { method: 'POST', json: {} })).status).toBe(405);
    });

    it("shows a member only their compartment's history", async () => {
      const member = await memberToken(t);
      const patientId = member.patient.replace(/^Patient\//, '');
      const history = await request<Bundle>(`${fhir}/Patient/_history?_count=100`, { token: member.token });
      expect(history.status).toBe(200);
      const ids = new Set(history.body.entry?.map((e) => e.fullUrl?.split('/').at(-1)));
      expect([...ids]).toEqual([patientId]);
      const system = await request<Bundle>(`${fhir}/_history?_count=100`, { token: member.token });
      expect(system.status).toBe(200);
      expect(JSON.stringify(system.body)).not.toContain('Hist1');
    });
  });

  describe('_summary, _elements, _total and formats', () => {
    it('answers subsets marked SUBSETTED on read, vread, search and history', async () => {
      const p = await create(
        patient('Subset', { text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' } }),
      );
      const summary = (await call(`Patient/${p.id}?_summary=true`)).body;
      expect(summary).toMatchObject({ id: p.id, name: [{ family: 'Subset' }], birthDate: '1980-02-03' });
      expect(summary.maritalStatus).toBeUndefined();
      expect(summary.text).toBeUndefined();
      expect(summary.meta?.tag).toContainEqual(SUBSETTED);
      const text = (await call(`Patient/${p.id}/_history/1?_summary=text`)).body;
      expect(Object.keys(text).sort()).toEqual(['id', 'meta', 'resourceType', 'text']);
      const data = (await call(`Patient/${p.id}?_summary=data`)).body;
      expect(data.text).toBeUndefined();
      expect(data.maritalStatus).toEqual({ text: 'married' });
      const elements = (await call(`Patient/${p.id}?_elements=gender,Patient.birthDate`)).body;
      expect(Object.keys(elements).sort()).toEqual(['birthDate', 'gender', 'id', 'meta', 'resourceType']);
      const full = (await call(`Patient/${p.id}`)).body;
      expect(full.meta?.tag).toBeUndefined();

      const search = (await call(`Patient?_id=${p.id}&_elements=gender`)).body;
      expect(Object.keys(search.entry?.[0]?.resource ?? {}).sort()).toEqual(['gender', 'id', 'meta', 'resourceType']);
      expect(search.link?.[0]?.url).toContain('_elements=gender');
      const history = (await call(`Patient/${p.id}/_history?_summary=true`)).body;
      expect(history.entry?.[0]?.resource?.meta?.tag).toContainEqual(SUBSETTED);
      const typeHistory = (await call(`Patient/_history?_elements=gender&_count=1`)).body;
      expect(Object.keys(typeHistory.entry?.[0]?.resource ?? {}).sort()).toEqual([
        'gender',
        'id',
        'meta',
        'resourceType',
      ]);

      expect((await call(`Patient/${p.id}?_elements=notAnElement`)).status).toBe(400);
      expect((await call(`Patient/${p.id}?_summary=maybe`)).status).toBe(400);
      expect((await call(`Patient/${p.id}?_summary=true&_elements=gender`)).status).toBe(400);
      // Another tenant's id is missing, however it is asked for.
      const foreign = await request(`${fhir}/Patient/${p.id}?_elements=gender`, { token: otherToken });
      expect(foreign.status).toBe(404);
      const foreignSearch = await request<Bundle>(`${fhir}/Patient?_id=${p.id}&_summary=true`, { token: otherToken });
      expect(foreignSearch.body.entry ?? []).toEqual([]);
    });

    it('counts with _summary=count and _total, estimate being the exact count', async () => {
      await create(patient('Totals'));
      await create(patient('Totals'));
      const count = (await call('Patient?family=Totals&_summary=count')).body;
      expect(count).toMatchObject({ total: 2 });
      expect(count.entry).toBeUndefined();
      expect((await call('Patient?family=Totals&_total=estimate')).body.total).toBe(2);
      expect((await call('Patient?family=Totals&_total=accurate')).body.total).toBe(2);
      expect((await call('Patient?family=Totals&_total=none')).body.total).toBeUndefined();
    });

    it('answers 406 to _format and Accept naming no JSON', async () => {
      expect((await call('Patient?_format=xml')).status).toBe(406);
      expect((await call('metadata?_format=application/fhir%2Bxml')).status).toBe(406);
      const xml = await call('Patient', { headers: { Accept: 'application/fhir+xml' } });
      expect(xml.status).toBe(406);
      expect(xml.body.resourceType).toBe('OperationOutcome');
      expect((await call('Patient?_format=json&_count=1')).status).toBe(200);
      expect((await call('Patient?_count=1', { headers: { Accept: 'application/fhir+json' } })).status).toBe(200);
      expect((await call('Patient?_count=1', { headers: { Accept: '*/*' } })).status).toBe(200);
      const bundle = await request(fhir, {
        method: 'POST',
        token,
        headers: { Accept: 'application/fhir+xml' },
        json: { resourceType: 'Bundle', type: 'batch', entry: [] },
      });
      expect(bundle.status).toBe(406);
    });
  });
});
