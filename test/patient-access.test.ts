/**
 * The Patient Access API end to end: a member's token (as the SMART launch issues it, signed here with the
 * server's key) reads the member's records and nothing of another member's, whatever the query; writes and
 * operations are refused; every access is an AuditEvent the payer's administrator finds.
 */
import type { AuditEvent, Bundle, Resource } from '@medplum/fhirtypes';
import { signAccessToken } from '@hookbot/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, outcomeIds, request, type JsonResponse } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

const ids = (bundle: Bundle, mode?: 'match' | 'include'): string[] =>
  (bundle.entry ?? [])
    .filter((e) => !mode || e.search?.mode === mode)
    .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`)
    .sort();

function expectOutcome(res: JsonResponse, status: number, code?: string): void {
  expect(res.status).toBe(status);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(outcomeIds(res).requestId).toBe(res.headers.get('x-request-id'));
  if (code) expect(JSON.stringify(res.body)).toContain(code);
}

describe.each(['pglite', 'postgres'] as const)('Patient Access API on %s', (store) => {
  let t: TestServer;
  let fhir: string;
  let admin: string;
  let tokenA: string;
  const r: Record<string, Resource> = {};
  const ref = (key: string): string => `${r[key]?.resourceType}/${r[key]?.id}`;
  const get = <T = Bundle>(path: string, token = tokenA) => request<T>(`${fhir}/${path}`, { token });

  async function create(key: string, resource: Record<string, unknown>): Promise<void> {
    const res = await request<Resource>(`${fhir}/${resource.resourceType as string}`, {
      method: 'POST',
      token: admin,
      json: resource,
    });
    expect(res.status).toBe(201);
    r[key] = res.body;
  }

  function memberToken(
    patient: string | undefined,
    scope = 'patient/*.rs',
    clientId = 'member-app-test',
  ): Promise<string> {
    const { services } = t.server;
    return signAccessToken(
      services.key,
      services.config.baseUrl,
      {
        clientId,
        projectId: t.demo.projectId,
        admin: false,
        role: 'member-app',
        scope,
        ...(patient ? { patient, fhirUser: `Patient/${patient}` } : {}),
      },
      300,
    );
  }

  const eob = (patient: string, coverage: string, provider: string) => ({
    resourceType: 'ExplanationOfBenefit',
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
    use: 'claim',
    patient: { reference: ref(patient) },
    created: '2024-02-01',
    insurer: { reference: ref('payer') },
    provider: { reference: ref(provider) },
    outcome: 'complete',
    insurance: [{ focal: true, coverage: { reference: ref(coverage) } }],
  });

  beforeAll(async () => {
    t = await startTestServer({ store, redis: store === 'postgres' });
    fhir = `${t.url}/fhir/R4`;
    admin = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    await create('payer', { resourceType: 'Organization', name: 'Payer' });
    await create('clinicB', { resourceType: 'Organization', name: 'Clinic of B' });
    await create('drA', { resourceType: 'Practitioner', name: [{ family: 'Adams' }] });
    await create('drB', { resourceType: 'Practitioner', name: [{ family: 'Brown' }] });
    await create('a', { resourceType: 'Patient', name: [{ family: 'Alpha' }], birthDate: '1970-01-01' });
    await create('b', { resourceType: 'Patient', name: [{ family: 'Beta' }], birthDate: '1980-01-01' });
    for (const m of ['a', 'b'])
      await create(`cov${m}`, {
        resourceType: 'Coverage',
        status: 'active',
        beneficiary: { reference: ref(m) },
        // B is A's dependent: A holds B's policy, and still must not see B's records.
        subscriber: { reference: ref('a') },
        payor: [{ reference: ref(m === 'a' ? 'payer' : 'clinicB') }],
      });
    await create('eobA1', eob('a', 'cova', 'drA'));
    await create('eobA2', eob('a', 'cova', 'drA'));
    await create('eobB', eob('b', 'covb', 'drB'));
    tokenA = await memberToken(r.a?.id);
  });
  afterAll(async () => t?.stop());

  it("reads the member's records, and another member's as missing (404, like an unknown id)", async () => {
    expect((await get<Resource>(`Patient/${r.a?.id}`)).status).toBe(200);
    expect((await get<Resource>(`ExplanationOfBenefit/${r.eobA1?.id}`)).status).toBe(200);
    for (const key of ['b', 'covb', 'eobB', 'drB', 'clinicB']) {
      expectOutcome(await get(ref(key)), 404);
      expectOutcome(await get(`${ref(key)}/_history`), 404);
      expectOutcome(await get(`${ref(key)}/_history/1`), 404);
    }
    expectOutcome(await get('Patient/no-such-id'), 404);
  });

  it('searches with _include, _revinclude, _count, paging and _lastUpdated within the compartment', async () => {
    const eobs = (await get('ExplanationOfBenefit?_include=ExplanationOfBenefit:coverage&_total=accurate')).body;
    expect(ids(eobs, 'match')).toEqual([ref('eobA1'), ref('eobA2')].sort());
    expect(ids(eobs, 'include')).toEqual([ref('cova')]);
    expect(eobs.total).toBe(2);
    const page = (await get('ExplanationOfBenefit?_count=1&_lastUpdated=gt2000-01-01')).body;
    expect(ids(page, 'match')).toHaveLength(1);
    const next = page.link?.find((l) => l.relation === 'next')?.url as string;
    const page2 = (await request<Bundle>(next, { token: tokenA })).body;
    expect(ids(page2, 'match')).toHaveLength(1);
    expect(page2.link?.some((l) => l.relation === 'next')).toBe(false);
    const patients = (await get(`Patient?_id=${r.a?.id},${r.b?.id}&_revinclude=ExplanationOfBenefit:patient`)).body;
    expect(ids(patients)).toEqual([ref('a'), ref('eobA1'), ref('eobA2')].sort());
    const orgs = (await get('Organization?_revinclude=Coverage:payor')).body;
    expect(ids(orgs)).toEqual([ref('cova'), ref('payer')].sort());
    expect(ids((await get('Practitioner')).body)).toEqual([ref('drA')]);
  });

  it("finds nothing of another member's through search parameters, _include or _revinclude", async () => {
    for (const query of [
      `ExplanationOfBenefit?patient=${ref('b')}`,
      `ExplanationOfBenefit?_id=${r.eobB?.id}`,
      `ExplanationOfBenefit?provider=${ref('drB')}`,
      `Coverage?beneficiary=${ref('b')}&_include=Coverage:payor`,
      `Patient?name=Beta`,
      `Organization?name=Clinic`,
      `Coverage?_id=${r.covb?.id}&_include=Coverage:beneficiary`,
      `Organization?_id=${r.clinicB?.id}&_revinclude=Coverage:payor`,
    ]) {
      const res = await get(query);
      expect(res.status, query).toBe(200);
      expect(ids(res.body), query).toEqual([]);
    }
    const posted = await request<Bundle>(`${fhir}/ExplanationOfBenefit/_search`, {
      method: 'POST',
      token: tokenA,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ patient: ref('b') }),
    });
    expect(ids(posted.body)).toEqual([]);
  });

  it('answers chains and _has within the compartment only', async () => {
    expect(ids((await get('ExplanationOfBenefit?patient.name=Alpha')).body)).toEqual(
      [ref('eobA1'), ref('eobA2')].sort(),
    );
    expect(ids((await get('ExplanationOfBenefit?patient.name=Beta')).body)).toEqual([]);
    expect(ids((await get(`Patient?_has:ExplanationOfBenefit:patient:provider=${ref('drA')}`)).body)).toEqual([
      ref('a'),
    ]);
    expect(ids((await get(`Patient?_has:ExplanationOfBenefit:patient:provider=${ref('drB')}`)).body)).toEqual([]);
    // A subscribes to B's Coverage: the payer finds A through it, the member (who cannot see it) does not.
    const throughB = `Patient?_has:Coverage:subscriber:beneficiary=${ref('b')}`;
    expect(ids((await get(throughB, admin)).body)).toEqual([ref('a')]);
    expect(ids((await get(throughB)).body)).toEqual([]);
    expect(ids((await get('Coverage?payor:Organization.name=Clinic')).body)).toEqual([]);
  });

  it("answers type and system _history with the member's compartment only", async () => {
    const eobs = await get<Bundle>('ExplanationOfBenefit/_history?_count=100');
    expect(eobs.status).toBe(200);
    expect([...new Set(ids(eobs.body))]).toEqual([ref('eobA1'), ref('eobA2')].sort());
    const all = await get<Bundle>('_history?_count=1000');
    expect(all.status).toBe(200);
    const seen = new Set(ids(all.body));
    for (const key of ['a', 'cova', 'eobA1', 'eobA2', 'drA', 'payer']) expect(seen.has(ref(key)), key).toBe(true);
    for (const key of ['b', 'covb', 'eobB', 'drB', 'clinicB']) expect(seen.has(ref(key)), key).toBe(false);
  });

  it('refuses writes and operations with 403', async () => {
    const patientA = (await get<Resource>(`Patient/${r.a?.id}`)).body;
    const tries: [string, string, unknown?][] = [
      ['POST', 'Patient', { resourceType: 'Patient' }],
      ['PUT', `Patient/${r.a?.id}`, patientA],
      ['DELETE', `ExplanationOfBenefit/${r.eobA1?.id}`],
      ['PATCH', `Patient/${r.a?.id}`, []],
      ['POST', 'Bot/any/$execute', {}],
      ['GET', 'Bot/any/$execute'],
      ['POST', 'Bot/$deploy-rules', {}],
    ];
    for (const [method, path, json] of tries) {
      const res = await request(`${fhir}/${path}`, { method, token: tokenA, ...(json ? { json } : {}) });
      expectOutcome(res, 403, 'auth.member-read-only');
    }
    expectOutcome(await request(`${fhir}/Claim/$submit`, { method: 'POST', token: tokenA, json: {} }), 403);
    expectOutcome(await request(`${t.url}/cds-feedback/stats`, { token: tokenA }), 403);
    expect((await get<Resource>(`Patient/${r.a?.id}`)).body).toEqual(patientA);
  });

  it('holds the token to its scopes: no escalation at the API', async () => {
    const eobOnly = await memberToken(r.a?.id, 'patient/ExplanationOfBenefit.rs');
    const eobs = (await get('ExplanationOfBenefit?_include=ExplanationOfBenefit:coverage', eobOnly)).body;
    expect(ids(eobs)).toEqual([ref('eobA1'), ref('eobA2')].sort());
    expectOutcome(await get(`Coverage/${r.cova?.id}`, eobOnly), 403, 'auth.forbidden-scope');
    expectOutcome(await get('Patient', eobOnly), 403, 'auth.forbidden-scope');
    // Even a member token carrying wider scopes reads only, and only its member's records.
    const wide = await memberToken(r.a?.id, 'system/*.cruds user/*.cruds patient/*.cruds');
    expectOutcome(await get('Bot', wide), 403, 'auth.forbidden-scope');
    expectOutcome(await get('AuditEvent', wide), 403, 'auth.forbidden-scope');
    expectOutcome(await get(ref('b'), wide), 404);
    const write = await request(`${fhir}/Patient`, { method: 'POST', token: wide, json: { resourceType: 'Patient' } });
    expectOutcome(write, 403, 'auth.member-read-only');
    // A member app's token that names no patient reads nothing.
    expectOutcome(await get(`Patient/${r.a?.id}`, await memberToken(undefined)), 403, 'auth.no-patient');
  });

  it('records each access as an AuditEvent the payer finds by member and by app', async () => {
    const app = 'member-app-audited';
    const token = await memberToken(r.a?.id, 'patient/*.rs', app);
    await get('ExplanationOfBenefit?_include=ExplanationOfBenefit:coverage', token);
    await get(ref('eobB'), token);
    await t.server.services.audit.flush();
    const res = await request<Bundle<AuditEvent>>(`${fhir}/AuditEvent?type=patient-access&altid=${app}`, {
      token: admin,
    });
    const events = (res.body.entry ?? []).map((e) => e.resource as AuditEvent);
    const search = events.find((e) => e.subtype?.[0]?.code === 'search-type');
    const read = events.find((e) => e.subtype?.[0]?.code === 'read');
    expect(events).toHaveLength(2);
    expect(search?.outcome).toBe('0');
    expect(search?.agent?.map((a) => a.who?.reference ?? a.who?.display)).toEqual([ref('a'), app]);
    expect(search?.entity?.[1]?.detail?.[0]?.valueString).toBe('_include=ExplanationOfBenefit:coverage');
    expect(read?.outcome).toBe('4');
    expect(read?.entity?.[1]?.what?.reference).toBe(ref('eobB'));
    const byMember = await request<Bundle>(`${fhir}/AuditEvent?patient=${ref('a')}&_summary=count`, { token: admin });
    expect(byMember.body.total).toBeGreaterThanOrEqual(2);
  });
});
