import type { Bundle, ExplanationOfBenefit, Resource } from '@medplum/fhirtypes';
import { beforeAll, expect, it } from 'vitest';
import { patientAccess } from '../../auth/patient-access.js';
import { parseScopes } from '../../auth/scopes.js';
import { HookbotError } from '../../infra/errors.js';
import { coverage, patient, testAccess } from '../../testing/fixtures.js';
import { withStores } from '../../testing/stores.js';
import { createRepository, type Repository } from '../repository.js';
import { MAX_INCLUDE_ITERATIONS } from './execute.js';

const ref = (r: Resource): string => `${r.resourceType}/${r.id}`;
const entries = (bundle: Bundle, mode: string): string[] =>
  (bundle.entry ?? []).filter((e) => e.search?.mode === mode).map((e) => ref(e.resource as Resource));
const matches = (bundle: Bundle): string[] => entries(bundle, 'match').sort();
const included = (bundle: Bundle): string[] => entries(bundle, 'include').sort();

async function rejection(promise: Promise<unknown>): Promise<HookbotError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HookbotError);
  return err as HookbotError;
}

function eob(patientRef: string, coverageRef: string, provider?: string): ExplanationOfBenefit {
  return {
    resourceType: 'ExplanationOfBenefit',
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
    use: 'claim',
    patient: { reference: patientRef },
    created: '2024-01-01',
    insurer: { reference: 'Organization/none' },
    provider: { reference: provider ?? 'Practitioner/none' },
    outcome: 'complete',
    insurance: [{ focal: true, coverage: { reference: coverageRef } }],
  };
}

const M1 = { identifier: [{ system: 'urn:member', value: 'M-1' }], birthDate: '1980-05-17' };

withStores('chained and reverse-chained search', (getDb) => {
  let a: Repository;
  let b: Repository;
  type Key = 'group' | 'org' | 'dr' | 'pat1' | 'pat2' | 'cov1' | 'cov2' | 'eob1' | 'eob2';
  const r = {} as Record<Key | 'bPat' | 'bCov' | 'bEob' | 'bStray', Resource>;

  beforeAll(async () => {
    a = createRepository(getDb(), testAccess());
    b = createRepository(getDb(), testAccess());
    r.group = await a.create({ resourceType: 'Organization', name: 'Acme Group' });
    r.org = await a.create({ resourceType: 'Organization', name: 'Acme Health', partOf: { reference: ref(r.group) } });
    r.dr = await a.create({ resourceType: 'Practitioner', name: [{ family: 'Welby' }] });
    r.pat1 = await a.create(
      patient({
        ...M1,
        name: [{ family: 'Smith' }],
        generalPractitioner: [{ reference: ref(r.dr) }],
        managingOrganization: { reference: ref(r.org) },
      }),
    );
    r.pat2 = await a.create(
      patient({ identifier: [{ system: 'urn:member', value: 'M-2' }], birthDate: '1990', name: [{ family: 'Jones' }] }),
    );
    // A dependent's plan and a member's own: each names the other as subscriber, which a member never sees.
    r.cov1 = await a.create(
      coverage(r.pat1.id as string, { payor: [{ reference: ref(r.org) }], subscriber: { reference: ref(r.pat2) } }),
    );
    r.cov2 = await a.create(
      coverage(r.pat2.id as string, {
        status: 'cancelled',
        payor: [{ reference: ref(r.org) }],
        subscriber: { reference: ref(r.pat1) },
      }),
    );
    r.eob1 = await a.create(eob(ref(r.pat1), ref(r.cov1), ref(r.dr)));
    r.eob2 = await a.create(eob(ref(r.pat2), ref(r.cov2)));
    // Tenant B: the same identifiers and birth date, and an EOB naming tenant A's patient by its id.
    r.bPat = await b.create(patient({ ...M1, name: [{ family: 'Smith' }] }));
    r.bCov = await b.create(coverage(r.bPat.id as string));
    r.bEob = await b.create(eob(ref(r.bPat), ref(r.bCov)));
    r.bStray = await b.create(eob(ref(r.pat1), ref(r.cov1)));
  });

  it('follows a chain to its target type, in the caller project only', async () => {
    const query = { 'patient.identifier': 'urn:member|M-1' };
    expect(matches(await a.search('ExplanationOfBenefit', query))).toEqual([ref(r.eob1)]);
    expect(matches(await b.search('ExplanationOfBenefit', query))).toEqual([ref(r.bEob)]);
    expect(matches(await a.search('Coverage', { 'beneficiary:Patient.birthdate': '1980-05-17' }))).toEqual([
      ref(r.cov1),
    ]);
    expect(matches(await b.search('Coverage', { 'beneficiary:Patient.birthdate': '1980-05-17' }))).toEqual([
      ref(r.bCov),
    ]);
    expect(matches(await a.search('ExplanationOfBenefit', { 'patient.name': 'jones' }))).toEqual([ref(r.eob2)]);
    // B's EOB names A's patient: the chain finds no Patient of that id in B.
    expect(matches(await b.search('ExplanationOfBenefit', { 'patient._id': r.pat1.id as string }))).toEqual([]);
  });

  it('follows chains of up to three links, and ANDs them with other parameters', async () => {
    const query = { 'coverage.payor:Organization.partof.name': 'acme group' };
    expect(matches(await a.search('ExplanationOfBenefit', query))).toEqual([ref(r.eob1), ref(r.eob2)].sort());
    expect(matches(await b.search('ExplanationOfBenefit', query))).toEqual([]);
    expect(matches(await a.search('ExplanationOfBenefit', { ...query, 'coverage.status': 'cancelled' }))).toEqual([
      ref(r.eob2),
    ]);
    expect(matches(await a.search('ExplanationOfBenefit', { 'patient.gender:missing': 'true' }))).toHaveLength(2);
  });

  it('finds resources by what refers to them (_has), nested, in the caller project only', async () => {
    const cancelled = { '_has:Coverage:beneficiary:status': 'cancelled' };
    expect(matches(await a.search('Patient', cancelled))).toEqual([ref(r.pat2)]);
    expect(matches(await b.search('Patient', cancelled))).toEqual([]);
    const viaEob = { '_has:ExplanationOfBenefit:patient:coverage.status': 'active' };
    expect(matches(await a.search('Patient', viaEob))).toEqual([ref(r.pat1)]);
    expect(matches(await b.search('Patient', viaEob))).toEqual([ref(r.bPat)]);
    const nested = { '_has:Coverage:payor:_has:ExplanationOfBenefit:coverage:patient': ref(r.pat1) };
    expect(matches(await a.search('Organization', nested))).toEqual([ref(r.org)]);
    // B's stray EOB refers to A's patient and coverage ids; nothing of B's is found through A's rows, nor A's through B's.
    expect(
      matches(await a.search('Patient', { '_has:ExplanationOfBenefit:patient:_id': r.bStray.id as string })),
    ).toEqual([]);
    expect(matches(await b.search('Coverage', { '_has:ExplanationOfBenefit:coverage:status': 'active' }))).toEqual([
      ref(r.bCov),
    ]);
  });

  it('refuses (403) a chain or _has through a type the caller may not search', async () => {
    const eobOnly = createRepository(getDb(), testAccess(a.access.projectId, { ExplanationOfBenefit: 'rs' }));
    expect(matches(await eobOnly.search('ExplanationOfBenefit', { patient: ref(r.pat1) }))).toEqual([ref(r.eob1)]);
    const chained = await rejection(eobOnly.search('ExplanationOfBenefit', { 'patient.identifier': 'urn:member|M-1' }));
    expect(chained.status).toBe(403);
    expect(chained.message).toBe('Not allowed to search Patient');
    const patientOnly = createRepository(getDb(), testAccess(a.access.projectId, { Patient: 'rs' }));
    expect(
      (await rejection(patientOnly.search('Patient', { '_has:Coverage:beneficiary:status': 'active' }))).status,
    ).toBe(403);
  });

  it("keeps a member's chains and _has inside the member's view", async () => {
    const member = createRepository(
      getDb(),
      patientAccess({
        projectId: a.access.projectId,
        patient: r.pat1.id as string,
        scopes: parseScopes('patient/*.rs'),
      }),
    );
    // The payer sees that cov1's subscriber is Jones, and that a cancelled Coverage names pat1 as subscriber.
    expect(matches(await a.search('Coverage', { 'subscriber.name': 'jones' }))).toEqual([ref(r.cov1)]);
    expect(matches(await a.search('Patient', { '_has:Coverage:subscriber:status': 'cancelled' }))).toEqual([
      ref(r.pat1),
    ]);
    // The member sees cov1 and itself, but neither Jones nor Jones's Coverage: nothing to learn through them.
    expect(matches(await member.search('Coverage', {}))).toEqual([ref(r.cov1)]);
    expect(matches(await member.search('Coverage', { 'subscriber.name': 'jones' }))).toEqual([]);
    expect(matches(await member.search('Patient', { '_has:Coverage:subscriber:status': 'cancelled' }))).toEqual([]);
    expect(matches(await member.search('Patient', { '_has:Coverage:beneficiary:status': 'active' }))).toEqual([
      ref(r.pat1),
    ]);
    expect(
      matches(await member.search('ExplanationOfBenefit', { 'coverage.payor:Organization.name': 'acme' })),
    ).toEqual([ref(r.eob1)]);
  });

  it('answers an impossible date inside a chain with 400', async () => {
    const err = await rejection(a.search('Coverage', { 'beneficiary.birthdate': '2024-02-31' }));
    expect(err.status).toBe(400);
    expect(err.message).toContain('Invalid date "2024-02-31"');
  });

  it('_include:iterate and _revinclude:iterate go on from what the previous round included', async () => {
    const eobs = await a.search(
      'ExplanationOfBenefit',
      new URLSearchParams([
        ['_id', r.eob1.id as string],
        ['_include', 'ExplanationOfBenefit:patient'],
        ['_include:iterate', 'Patient:general-practitioner'],
        ['_include:iterate', 'Patient:organization'],
        ['_include:iterate', 'Organization:partof'],
      ]),
    );
    expect(included(eobs)).toEqual([ref(r.pat1), ref(r.dr), ref(r.org), ref(r.group)].sort());
    const once = await a.search(
      'ExplanationOfBenefit',
      new URLSearchParams([
        ['_id', r.eob1.id as string],
        ['_include', 'ExplanationOfBenefit:patient'],
      ]),
    );
    expect(included(once)).toEqual([ref(r.pat1)]);
    const patients = await a.search(
      'Patient',
      new URLSearchParams([
        ['_id', r.pat1.id as string],
        ['_revinclude', 'Coverage:beneficiary'],
        ['_revinclude:iterate', 'ExplanationOfBenefit:coverage'],
      ]),
    );
    expect(included(patients)).toEqual([ref(r.cov1), ref(r.eob1)].sort());
  });

  it(`stops :iterate after ${MAX_INCLUDE_ITERATIONS} rounds beyond the first, and says so`, async () => {
    const chain: Resource[] = [await a.create({ resourceType: 'Organization', name: 'level 0' })];
    for (let i = 1; i <= MAX_INCLUDE_ITERATIONS + 3; i++) {
      chain.unshift(
        await a.create({
          resourceType: 'Organization',
          name: `level ${i}`,
          partOf: { reference: ref(chain[0] as Resource) },
        }),
      );
    }
    const bundle = await a.search(
      'Organization',
      new URLSearchParams([
        ['_id', chain[0]?.id as string],
        ['_include:iterate', 'Organization:partof'],
      ]),
    );
    expect(included(bundle)).toEqual(
      chain
        .slice(1, MAX_INCLUDE_ITERATIONS + 2)
        .map(ref)
        .sort(),
    );
    const outcome = bundle.entry?.find((e) => e.search?.mode === 'outcome')?.resource;
    expect(outcome?.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(outcome)).toContain('rounds of :iterate');
  });
});
