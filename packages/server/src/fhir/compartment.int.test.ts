import type { Bundle, ExplanationOfBenefit, Resource } from '@medplum/fhirtypes';
import { beforeAll, expect, it } from 'vitest';
import { patientAccess } from '../auth/patient-access.js';
import { parseScopes } from '../auth/scopes.js';
import { HookbotError } from '../infra/errors.js';
import { coverage, patient, testAccess } from '../testing/fixtures.js';
import { withStores } from '../testing/stores.js';
import { createRepository, type Repository } from './repository.js';

const matches = (bundle: Bundle): string[] =>
  (bundle.entry ?? [])
    .filter((e) => e.search?.mode === 'match')
    .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
const included = (bundle: Bundle): string[] =>
  (bundle.entry ?? [])
    .filter((e) => e.search?.mode === 'include')
    .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
const ref = (r: Resource): string => `${r.resourceType}/${r.id}`;

async function status(promise: Promise<unknown>): Promise<number> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HookbotError);
  return (err as HookbotError).status;
}

function eob(patientId: string, coverageId: string, provider: string): ExplanationOfBenefit {
  return {
    resourceType: 'ExplanationOfBenefit',
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
    use: 'claim',
    patient: { reference: `Patient/${patientId}` },
    created: '2024-01-01',
    insurer: { reference: 'Organization/none' },
    provider: { reference: provider },
    outcome: 'complete',
    insurance: [{ focal: true, coverage: { reference: `Coverage/${coverageId}` } }],
  };
}

withStores('a member sees their compartment only', (getDb) => {
  let payer: Repository;
  let member: Repository;
  type Key =
    | 'payerOrg'
    | 'otherOrg'
    | 'drA'
    | 'drB'
    | 'a'
    | 'b'
    | 'covA'
    | 'covB'
    | `eobA${1 | 2 | 3}`
    | 'eobB'
    | 'paidToA'
    | 'byA'
    | 'moved';
  const r = {} as Record<Key, Resource>;

  beforeAll(async () => {
    const access = testAccess();
    payer = createRepository(getDb(), access);
    r.payerOrg = await payer.create({ resourceType: 'Organization', name: 'Payer' });
    r.otherOrg = await payer.create({ resourceType: 'Organization', name: 'Only B sees me' });
    r.drA = await payer.create({ resourceType: 'Practitioner', name: [{ family: 'A-doctor' }] });
    r.drB = await payer.create({ resourceType: 'Practitioner', name: [{ family: 'B-doctor' }] });
    r.a = await payer.create(patient({ name: [{ family: 'Alpha' }] }));
    r.b = await payer.create(
      patient({ name: [{ family: 'Beta' }], managingOrganization: { reference: ref(r.otherOrg) } }),
    );
    r.covA = await payer.create(coverage(r.a.id as string, { payor: [{ reference: ref(r.payerOrg) }] }));
    r.covB = await payer.create(coverage(r.b.id as string, { payor: [{ reference: ref(r.payerOrg) }] }));
    for (const n of [1, 2, 3] as const)
      r[`eobA${n}`] = await payer.create(eob(r.a.id as string, r.covA.id as string, ref(r.drA)));
    r.eobB = await payer.create(eob(r.b.id as string, r.covB.id as string, ref(r.drB)));
    // B's care, paid to A (a subscriber paid for a dependent's claim): in A's R4 compartment as payee, never in A's view.
    r.paidToA = await payer.create({
      ...eob(r.b.id as string, r.covB.id as string, ref(r.drB)),
      payee: { party: { reference: ref(r.a) } },
    });
    // B's questionnaire, filled in by A (a parent for a child): A is its author, not its subject.
    r.byA = await payer.create({
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      subject: { reference: ref(r.b) },
      author: { reference: ref(r.a) },
    });
    // Written for B, then moved to A: A sees the resource as it is now, never B's version.
    r.moved = await payer.create(eob(r.b.id as string, r.covB.id as string, ref(r.drB)));
    r.moved = await payer.update({ ...eob(r.a.id as string, r.covA.id as string, ref(r.drA)), id: r.moved.id });
    const scopes = parseScopes('patient/*.rs');
    member = createRepository(
      getDb(),
      patientAccess({ projectId: access.projectId, patient: r.a.id as string, scopes }),
    );
  });

  it("reads the member's own records, and another member's as missing (404)", async () => {
    expect((await member.read('Patient', r.a.id as string)).id).toBe(r.a.id);
    expect((await member.read('Coverage', r.covA.id as string)).id).toBe(r.covA.id);
    expect((await member.read('Organization', r.payerOrg.id as string)).id).toBe(r.payerOrg.id);
    expect((await member.read('Practitioner', r.drA.id as string)).id).toBe(r.drA.id);
    for (const [type, id] of [
      ['Patient', r.b.id],
      ['Coverage', r.covB.id],
      ['ExplanationOfBenefit', r.eobB.id],
      ['ExplanationOfBenefit', r.paidToA.id],
      ['QuestionnaireResponse', r.byA.id],
      ['Practitioner', r.drB.id],
      ['Organization', r.otherOrg.id],
    ] as const) {
      expect(await status(member.read(type, id as string))).toBe(404);
      expect(await status(member.vread(type, id as string, '1'))).toBe(404);
      expect(await status(member.history(type, id as string))).toBe(404);
    }
  });

  it('searches count and page only what the member may see, whatever the parameters', async () => {
    const all = await member.search('ExplanationOfBenefit', new URLSearchParams('_total=accurate&_count=2'));
    expect(all.total).toBe(4);
    expect(all.link?.some((l) => l.relation === 'next')).toBe(true);
    const page2 = await member.search('ExplanationOfBenefit', new URLSearchParams('_count=2&_offset=2'));
    expect(matches(page2)).toHaveLength(2);
    expect(page2.link?.some((l) => l.relation === 'next')).toBe(false);
    for (const query of [
      `patient=${ref(r.b)}`,
      `_id=${r.eobB.id}`,
      `provider=${ref(r.drB)}`,
      `coverage=${ref(r.covB)}`,
    ]) {
      expect(matches(await member.search('ExplanationOfBenefit', new URLSearchParams(query)))).toEqual([]);
    }
    expect(matches(await member.search('Patient', new URLSearchParams()))).toEqual([ref(r.a)]);
    expect(matches(await member.search('Organization', new URLSearchParams('_total=accurate')))).toEqual([
      ref(r.payerOrg),
    ]);
    expect(matches(await member.search('Practitioner', new URLSearchParams()))).toEqual([ref(r.drA)]);
  });

  it('filters _include and _revinclude to the compartment', async () => {
    const eobs = await member.search(
      'ExplanationOfBenefit',
      new URLSearchParams('_include=ExplanationOfBenefit:coverage&_include=ExplanationOfBenefit:provider'),
    );
    expect(included(eobs).sort()).toEqual([ref(r.covA), ref(r.drA)].sort());
    const orgs = await member.search(
      'Organization',
      new URLSearchParams('_revinclude=Coverage:payor&_revinclude=Patient:organization'),
    );
    expect(included(orgs)).toEqual([ref(r.covA)]);
    const patients = await member.search('Patient', new URLSearchParams('_revinclude=ExplanationOfBenefit:patient'));
    expect(included(patients)).toHaveLength(4);
    expect(included(patients)).not.toContain(ref(r.eobB));
  });

  it("keeps a resource's earlier versions of another member out of its history", async () => {
    const history = await member.history('ExplanationOfBenefit', r.moved.id as string);
    expect(history.entry?.map((e) => e.response?.etag)).toEqual(['W/"2"']);
    expect(await status(member.vread('ExplanationOfBenefit', r.moved.id as string, '1'))).toBe(404);
    expect((await member.vread('ExplanationOfBenefit', r.moved.id as string, '2')).id).toBe(r.moved.id);
  });

  it('refuses writes and the types outside the Patient Access API', async () => {
    expect(await status(member.create(patient()))).toBe(403);
    expect(await status(member.update(r.a))).toBe(403);
    expect(await status(member.delete('Patient', r.a.id as string))).toBe(403);
    expect(await status(member.search('Bot', new URLSearchParams()))).toBe(403);
    expect(await status(member.search('AuditEvent', new URLSearchParams()))).toBe(403);
  });

  it('lets the scopes name the types: patient/ExplanationOfBenefit.rs reads EOBs alone', async () => {
    const scopes = parseScopes('patient/ExplanationOfBenefit.rs');
    const eobOnly = createRepository(
      getDb(),
      patientAccess({ projectId: member.access.projectId, patient: r.a.id as string, scopes }),
    );
    expect(await status(eobOnly.read('Coverage', r.covA.id as string))).toBe(403);
    const bundle = await eobOnly.search(
      'ExplanationOfBenefit',
      new URLSearchParams('_include=ExplanationOfBenefit:coverage'),
    );
    expect(matches(bundle)).toHaveLength(4);
    expect(included(bundle)).toEqual([]);
  });
});
