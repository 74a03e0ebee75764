import type { Bundle, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { HookbotError } from '../../infra/errors.js';
import { bot, coverage, patient, testAccess } from '../../testing/fixtures.js';
import { withStores } from '../../testing/stores.js';
import { createRepository, type Repository } from '../repository.js';

const ids = (bundle: Bundle): (string | undefined)[] =>
  (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id);

async function rejection(promise: Promise<unknown>): Promise<HookbotError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HookbotError);
  return err as HookbotError;
}

withStores('FHIR search', (getDb) => {
  let repo: Repository;
  const p: Record<string, Resource> = {};
  const sr: Record<string, Resource> = {};

  beforeAll(async () => {
    repo = createRepository(getDb(), testAccess(), { baseUrl: 'http://hookbot.test' });
    p.smith = await repo.create(
      patient({
        name: [{ family: 'Smith', given: ['Jane'] }],
        gender: 'female',
        birthDate: '1980-05-17',
        identifier: [{ system: 'urn:member', value: 'M-1' }],
        telecom: [{ system: 'email', value: 'jane@example.org' }],
      }),
    );
    p.smithson = await repo.create(
      patient({ name: [{ family: 'Smithson', given: ['Åsa'] }], gender: 'male', birthDate: '1990-01-01' }),
    );
    p.jones = await repo.create(
      patient({
        name: [{ family: 'Jones' }],
        birthDate: '2001',
        identifier: [{ system: 'urn:other', value: 'M-1' }],
      }),
    );
    await repo.create(coverage(p.smith.id ?? ''));
    await repo.create(coverage(p.smith.id ?? '', { status: 'cancelled' }));
    await repo.create(coverage(p.jones.id ?? ''));
    sr.stat = await repo.create(serviceRequest(p.smith.id ?? '', 'stat', '2024-03-01T10:00:00Z'));
    sr.routine = await repo.create(serviceRequest(p.smith.id ?? '', 'routine', '2024-03-05'));
    sr.asap = await repo.create(serviceRequest(p.jones.id ?? '', 'asap', '2023-12-31T23:00:00-05:00'));
  });

  it('matches strings by prefix, ignoring case and accents; :exact and :contains', async () => {
    expect(ids(await repo.search('Patient', { name: 'smith' })).sort()).toEqual([p.smith?.id, p.smithson?.id].sort());
    expect(ids(await repo.search('Patient', { given: 'asa' }))).toEqual([p.smithson?.id]);
    expect(ids(await repo.search('Patient', { 'family:exact': 'Smith' }))).toEqual([p.smith?.id]);
    expect(ids(await repo.search('Patient', { 'family:exact': 'smith' }))).toEqual([]);
    expect(ids(await repo.search('Patient', { 'family:contains': 'ithso' }))).toEqual([p.smithson?.id]);
  });

  it('matches tokens by code, system|code, |code and system|; :not', async () => {
    expect(ids(await repo.search('Patient', { gender: 'female' }))).toEqual([p.smith?.id]);
    expect(ids(await repo.search('Patient', { identifier: 'M-1' })).length).toBe(2);
    expect(ids(await repo.search('Patient', { identifier: 'urn:member|M-1' }))).toEqual([p.smith?.id]);
    expect(ids(await repo.search('Patient', { identifier: 'urn:other|' }))).toEqual([p.jones?.id]);
    expect(ids(await repo.search('Patient', { identifier: '|M-1' }))).toEqual([]);
    expect(ids(await repo.search('Patient', { email: 'jane@example.org' }))).toEqual([p.smith?.id]);
    expect(ids(await repo.search('Patient', { 'gender:not': 'female' })).sort()).toEqual(
      [p.smithson?.id, p.jones?.id].sort(),
    );
  });

  it('combines comma values with OR and repeated parameters with AND', async () => {
    expect(ids(await repo.search('Patient', { gender: 'female,male' })).length).toBe(2);
    expect(ids(await repo.search('Patient', new URLSearchParams('name=smith&name=smiths')))).toEqual([p.smithson?.id]);
  });

  it(':missing and :present', async () => {
    expect(ids(await repo.search('Patient', { 'gender:missing': 'true' }))).toEqual([p.jones?.id]);
    expect(ids(await repo.search('Patient', { 'gender:missing': 'false' })).length).toBe(2);
    expect(ids(await repo.search('Patient', { 'gender:present': 'false' }))).toEqual([p.jones?.id]);
    expect(ids(await repo.search('Patient', { 'gender:present': 'true' })).length).toBe(2);
    expect((await rejection(repo.search('Patient', { 'gender:missing': 'maybe' }))).status).toBe(400);
  });

  it('matches dates with prefixes over the precision of both values', async () => {
    const birth = async (q: string) => ids(await repo.search('Patient', { birthdate: q })).sort();
    expect(await birth('1980-05-17')).toEqual([p.smith?.id]);
    expect(await birth('1980-05')).toEqual([p.smith?.id]);
    expect(await birth('1980')).toEqual([p.smith?.id]);
    expect(await birth('2001-06-01')).toEqual([]); // the resource's whole year is not inside one day
    expect(await birth('ge1990-01-01')).toEqual([p.smithson?.id, p.jones?.id].sort());
    expect(await birth('gt1990-01-01')).toEqual([p.jones?.id]);
    expect(await birth('lt1990-01-01')).toEqual([p.smith?.id]);
    expect(await birth('le1990-01-01')).toEqual([p.smith?.id, p.smithson?.id].sort());
    expect(await birth('ne1980-05-17')).toEqual([p.smithson?.id, p.jones?.id].sort());
    expect(await birth('sa1990-01-01')).toEqual([p.jones?.id]);
    expect(await birth('eb1990-01-01')).toEqual([p.smith?.id]);
    expect(await birth('ap1980-05-16')).toEqual([p.smith?.id]);
    const authored = async (q: string) => ids(await repo.search('ServiceRequest', { authored: q })).sort();
    expect(await authored('2024-03-01')).toEqual([sr.stat?.id]);
    expect(await authored('2024-01-01')).toEqual([sr.asap?.id]); // 23:00 at -05:00 is 04:00 UTC the next day
    expect(await authored('ge2024-03-01T10:00:00Z')).toEqual([sr.stat?.id, sr.routine?.id].sort());
    const err = await rejection(repo.search('Patient', { birthdate: 'soon' }));
    expect(err.status).toBe(400);
    expect(err.message).toContain('birthdate');
  });

  it('matches numbers with prefixes', async () => {
    const order = async (q: string) => ids(await repo.search('ServiceRequest', { 'priority-order': q })).sort();
    expect(await order('50')).toEqual([sr.stat?.id]);
    expect(await order('gt30')).toEqual([sr.stat?.id, sr.asap?.id].sort());
    expect(await order('le40')).toEqual([sr.routine?.id, sr.asap?.id].sort());
    expect(await order('ne50')).toEqual([sr.routine?.id, sr.asap?.id].sort());
    expect(await order('ap44')).toEqual([sr.asap?.id]);
    expect((await rejection(repo.search('ServiceRequest', { 'priority-order': 'lots' }))).status).toBe(400);
  });

  it('matches references as Type/id, id, absolute URL and with a type modifier', async () => {
    const smith = p.smith?.id ?? '';
    const count = async (q: Record<string, string>) => ids(await repo.search('Coverage', q)).length;
    expect(await count({ beneficiary: `Patient/${smith}` })).toBe(2);
    expect(await count({ beneficiary: smith })).toBe(2);
    expect(await count({ beneficiary: `http://hookbot.test/fhir/R4/Patient/${smith}` })).toBe(2);
    expect(await count({ 'beneficiary:Patient': smith })).toBe(2);
    expect(await count({ patient: smith })).toBe(2);
    expect(await count({ beneficiary: 'Patient/nobody' })).toBe(0);
  });

  it('_id and _lastUpdated', async () => {
    expect(ids(await repo.search('Patient', { _id: `${p.smith?.id},${p.jones?.id}` })).sort()).toEqual(
      [p.smith?.id, p.jones?.id].sort(),
    );
    expect(ids(await repo.search('Patient', { _lastUpdated: 'lt2000-01-01' }))).toEqual([]);
    expect(ids(await repo.search('Patient', { _lastUpdated: `ge${p.smithson?.meta?.lastUpdated}` })).length).toBe(2);
  });

  it('_sort ascending and descending, by parameter and by _lastUpdated', async () => {
    expect(ids(await repo.search('Patient', { _sort: 'birthdate' }))).toEqual([
      p.smith?.id,
      p.smithson?.id,
      p.jones?.id,
    ]);
    expect(ids(await repo.search('Patient', { _sort: '-birthdate' }))).toEqual([
      p.jones?.id,
      p.smithson?.id,
      p.smith?.id,
    ]);
    expect(ids(await repo.search('Patient', { _sort: 'family' }))).toEqual([p.jones?.id, p.smith?.id, p.smithson?.id]);
    expect(ids(await repo.search('Patient', { _sort: '_lastUpdated' }))).toEqual([
      p.smith?.id,
      p.smithson?.id,
      p.jones?.id,
    ]);
    expect((await rejection(repo.search('Patient', { _sort: 'shoe-size' }))).message).toContain('shoe-size');
  });

  it('_count pages with self, next and previous links; _total', async () => {
    const first = await repo.search('Patient', { _sort: 'birthdate', _count: '2', _total: 'accurate' });
    expect(ids(first)).toEqual([p.smith?.id, p.smithson?.id]);
    expect(first.total).toBe(3);
    const next = first.link?.find((l) => l.relation === 'next')?.url ?? '';
    expect(next).toMatch(/^http:\/\/hookbot\.test\/fhir\/R4\/Patient\?/);
    expect(first.link?.find((l) => l.relation === 'previous')).toBeUndefined();
    const second = await repo.search('Patient', new URL(next).searchParams);
    expect(ids(second)).toEqual([p.jones?.id]);
    expect(second.link?.find((l) => l.relation === 'next')).toBeUndefined();
    expect(second.link?.find((l) => l.relation === 'previous')?.url).toContain('_count=2');
    expect((await repo.search('Patient', {})).total).toBeUndefined();
    const counted = await repo.search('Patient', { _summary: 'count' });
    expect(counted.total).toBe(3);
    expect(counted.entry).toBeUndefined();
  });

  it('_include and _revinclude', async () => {
    const withPatients = await repo.search('Coverage', { status: 'active', _include: 'Coverage:beneficiary' });
    const included = (withPatients.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource?.id);
    expect(ids(withPatients)).toHaveLength(2);
    expect(included.sort()).toEqual([p.smith?.id, p.jones?.id].sort());
    const all = await repo.search('Coverage', { beneficiary: p.jones?.id ?? '', _include: 'Coverage:*' });
    expect((all.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource?.id)).toEqual([
      p.jones?.id,
    ]);
    const typed = await repo.search('Coverage', { _include: 'Coverage:payor:Patient' });
    expect((typed.entry ?? []).filter((e) => e.search?.mode === 'include')).toEqual([]);
    const withCoverage = await repo.search('Patient', { _id: p.smith?.id ?? '', _revinclude: 'Coverage:beneficiary' });
    expect((withCoverage.entry ?? []).filter((e) => e.search?.mode === 'include')).toHaveLength(2);
    expect((await rejection(repo.search('Patient', { _include: 'Coverage:beneficiary' }))).status).toBe(400);
    expect((await rejection(repo.search('Coverage', { _include: 'Coverage:status' }))).status).toBe(400);
  });

  it('rejects unknown parameters, modifiers and types with 400 naming them', async () => {
    const err = await rejection(repo.search('Patient', { 'favourite-colour': 'blue' }));
    expect(err.status).toBe(400);
    expect(err.message).toContain('favourite-colour');
    expect((await rejection(repo.search('Patient', { 'gender:exact': 'male' }))).status).toBe(400);
    expect((await rejection(repo.search('Spaceship', {}))).status).toBe(400);
    expect((await rejection(repo.search('Patient', { _count: '-1' }))).status).toBe(400);
  });

  it('rejects a date that does not exist (2024-02-31) with 400 instead of rolling it over', async () => {
    const err = await rejection(repo.search('Patient', { birthdate: '2024-02-31' }));
    expect(err.status).toBe(400);
    expect(err.message).toContain('Invalid date "2024-02-31"');
  });

  describe('cds-hook on Bot', () => {
    let bots: Repository;
    const b: Record<string, Resource> = {};
    beforeAll(async () => {
      bots = createRepository(getDb(), testAccess());
      b.sign = await bots.create(bot('sign', 'order-sign'));
      b.select = await bots.create(bot('select', 'order-select'));
      b.plain = await bots.create(bot('plain'));
    });

    it(':present=true lists exactly the CDS service bots, :present=false the others', async () => {
      expect(ids(await bots.search('Bot', { 'cds-hook:present': 'true' })).sort()).toEqual(
        [b.sign?.id, b.select?.id].sort(),
      );
      expect(ids(await bots.search('Bot', { 'cds-hook:present': 'false' }))).toEqual([b.plain?.id]);
      expect(ids(await bots.search('Bot', { 'cds-hook:missing': 'true' }))).toEqual([b.plain?.id]);
    });

    it('finds the bots for one hook', async () => {
      expect(ids(await bots.search('Bot', { 'cds-hook': 'order-sign' }))).toEqual([b.sign?.id]);
      expect(ids(await bots.search('Bot', { 'cds-hook': 'patient-view' }))).toEqual([]);
    });
  });
});

function serviceRequest(patientId: string, priority: string, authoredOn: string): Resource {
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    priority,
    authoredOn,
    subject: { reference: `Patient/${patientId}` },
  } as Resource;
}
