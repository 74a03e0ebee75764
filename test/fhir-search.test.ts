/**
 * Chained and reverse-chained search, iterated includes and impossible dates through HTTP, on PGlite and
 * PostgreSQL: two tenants hold the same identifiers, and neither ever finds the other's records through a chain.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request, type JsonResponse } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

const ids = (bundle: Bundle, mode = 'match'): string[] =>
  (bundle.entry ?? [])
    .filter((e) => e.search?.mode === mode)
    .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`)
    .sort();

function expectOutcome(res: JsonResponse<unknown>, status: number, diagnostics: RegExp): void {
  const body = res.body as { resourceType?: string };
  expect(res.status).toBe(status);
  expect(body.resourceType).toBe('OperationOutcome');
  expect(JSON.stringify(body)).toMatch(diagnostics);
}

describe.each(['pglite', 'postgres'] as const)('chained search on %s', (store) => {
  let t: TestServer;
  let fhir: string;
  const token: Record<'a' | 'b', string> = { a: '', b: '' };
  const r: Record<string, Resource> = {};
  const ref = (key: string): string => `${r[key]?.resourceType}/${r[key]?.id}`;
  const get = (tenant: 'a' | 'b', path: string) => request<Bundle>(`${fhir}/${path}`, { token: token[tenant] });

  async function create(tenant: 'a' | 'b', key: string, resource: Record<string, unknown>): Promise<void> {
    const res = await request<Resource>(`${fhir}/${resource.resourceType as string}`, {
      method: 'POST',
      token: token[tenant],
      json: resource,
    });
    expect(res.status).toBe(201);
    r[key] = res.body;
  }

  const eob = (patient: string, coverage: string) => ({
    resourceType: 'ExplanationOfBenefit',
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
    use: 'claim',
    patient: { reference: patient },
    created: '2024-02-01',
    insurer: { reference: 'Organization/none' },
    provider: { reference: 'Practitioner/none' },
    outcome: 'complete',
    insurance: [{ focal: true, coverage: { reference: coverage } }],
  });

  beforeAll(async () => {
    t = await startTestServer({ store, redis: store === 'postgres' });
    fhir = `${t.url}/fhir/R4`;
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    for (const tenant of ['a', 'b'] as const) {
      const res = await request<{ client: { clientId: string; clientSecret: string } }>(`${t.url}/admin/projects`, {
        method: 'POST',
        token: admin,
        json: { name: `search-${tenant}` },
      });
      expect(res.status).toBe(201);
      token[tenant] = await getToken(t.url, res.body.client.clientId, res.body.client.clientSecret);
    }
    // The same member identifier, birth date and plan name in both tenants.
    for (const tenant of ['a', 'b'] as const) {
      await create(tenant, `${tenant}Plan`, { resourceType: 'Organization', name: 'Acme Health' });
      await create(tenant, `${tenant}Pat`, {
        resourceType: 'Patient',
        identifier: [{ system: 'urn:member', value: 'M-1' }],
        birthDate: '1980-05-17',
        managingOrganization: { reference: ref(`${tenant}Plan`) },
      });
      await create(tenant, `${tenant}Cov`, {
        resourceType: 'Coverage',
        status: tenant === 'a' ? 'active' : 'cancelled',
        beneficiary: { reference: ref(`${tenant}Pat`) },
        payor: [{ reference: ref(`${tenant}Plan`) }],
      });
      await create(tenant, `${tenant}Eob`, eob(ref(`${tenant}Pat`), ref(`${tenant}Cov`)));
    }
    // B's EOB naming A's patient and coverage by id: in B, those ids name nothing.
    await create('b', 'bStray', eob(ref('aPat'), ref('aCov')));
    // Starting a server and writing a dozen resources: minutes, not seconds, when other suites load the machine.
  }, 300_000);
  afterAll(async () => t?.stop());

  it('ExplanationOfBenefit?patient.identifier= and Coverage?beneficiary:Patient.birthdate= stay in each tenant', async () => {
    for (const tenant of ['a', 'b'] as const) {
      const eobs = await get(tenant, 'ExplanationOfBenefit?patient.identifier=urn:member|M-1&_total=accurate');
      expect(eobs.status).toBe(200);
      expect(ids(eobs.body)).toEqual([ref(`${tenant}Eob`)]);
      expect(eobs.body.total).toBe(1);
      const coverages = await get(tenant, 'Coverage?beneficiary:Patient.birthdate=1980-05-17');
      expect(ids(coverages.body)).toEqual([ref(`${tenant}Cov`)]);
      const deep = await get(tenant, 'ExplanationOfBenefit?coverage.payor:Organization.name=acme');
      expect(ids(deep.body)).toEqual([ref(`${tenant}Eob`)]);
    }
    expect(ids((await get('b', `ExplanationOfBenefit?patient._id=${r.aPat?.id}`)).body)).toEqual([]);
  });

  it('_has finds what is referred to, in the tenant of the caller only', async () => {
    expect(ids((await get('a', 'Patient?_has:Coverage:beneficiary:status=active')).body)).toEqual([ref('aPat')]);
    expect(ids((await get('b', 'Patient?_has:Coverage:beneficiary:status=active')).body)).toEqual([]);
    expect(ids((await get('b', 'Patient?_has:Coverage:beneficiary:status=cancelled')).body)).toEqual([ref('bPat')]);
    // B's stray EOB refers to A's patient id; A's patient is not found through it, by either tenant.
    const stray = `Patient?_has:ExplanationOfBenefit:patient:_id=${r.bStray?.id}`;
    expect(ids((await get('a', stray)).body)).toEqual([]);
    expect(ids((await get('b', stray)).body)).toEqual([]);
    const nested = 'Organization?_has:Patient:organization:_has:Coverage:beneficiary:status=active';
    expect(ids((await get('a', nested)).body)).toEqual([ref('aPlan')]);
    expect(ids((await get('b', nested)).body)).toEqual([]);
  });

  it('iterates _include and _revinclude beyond one level', async () => {
    const bundle = (
      await get(
        'a',
        `ExplanationOfBenefit?_id=${r.aEob?.id}&_include=ExplanationOfBenefit:patient&_include:iterate=Patient:organization`,
      )
    ).body;
    expect(ids(bundle, 'include')).toEqual([ref('aPat'), ref('aPlan')].sort());
    const rev = (
      await get(
        'a',
        `Organization?_id=${r.aPlan?.id}&_revinclude=Patient:organization&_revinclude:iterate=Coverage:beneficiary`,
      )
    ).body;
    expect(ids(rev, 'include')).toEqual([ref('aPat'), ref('aCov')].sort());
  });

  it('answers 400 for an ambiguous or too long chain, a composite parameter and impossible dates', async () => {
    expectOutcome(await get('a', 'ServiceRequest?requester.name=x'), 400, /Ambiguous chain.*name the type/);
    expectOutcome(await get('a', 'Organization?partof.partof.partof.partof.name=x'), 400, /chains more than 3 links/);
    expectOutcome(await get('a', 'Questionnaire?context-type-value=focus$x'), 400, /Composite search parameter/);
    for (const date of ['2024-02-31', '2024-13', '2024-01-01T25:00:00Z', '2024-01-01T24:00:00Z']) {
      expectOutcome(await get('a', `Patient?birthdate=${encodeURIComponent(date)}`), 400, /Invalid date/);
      expectOutcome(await get('a', `Coverage?beneficiary.birthdate=${encodeURIComponent(date)}`), 400, /Invalid date/);
    }
    expectOutcome(await get('a', 'Patient?_lastUpdated=gt2024-02-30'), 400, /Invalid date/);
  });
});
