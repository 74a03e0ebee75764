/** Another tenant's resources must behave exactly like missing ones, on every operation. */
import type { Patient } from '@medplum/fhirtypes';
import { beforeAll, expect, it } from 'vitest';
import { HookbotError } from '../infra/errors.js';
import { coverage, patient, testAccess } from '../testing/fixtures.js';
import { withStores } from '../testing/stores.js';
import { createRepository, type Repository } from './repository.js';

async function failure(promise: Promise<unknown>): Promise<{ status: number; issues: unknown }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HookbotError);
  const { status, issues } = err as HookbotError;
  // The diagnostics name the id asked for, so compare everything but that.
  return { status, issues: JSON.parse(JSON.stringify(issues).replaceAll(/Patient\/[\w.-]+/g, 'Patient/X')) };
}

withStores('tenant isolation', (getDb) => {
  let a: Repository;
  let b: Repository;
  let theirs: Patient;

  beforeAll(async () => {
    a = createRepository(getDb(), testAccess());
    b = createRepository(getDb(), testAccess());
    theirs = await b.create<Patient>(patient({ gender: 'female', identifier: [{ system: 'urn:m', value: 'T-1' }] }));
    await b.create(coverage(theirs.id ?? ''));
  });

  it('read, vread, history and delete answer 404 exactly like a missing id', async () => {
    const id = theirs.id ?? '';
    for (const [op, missing] of [
      [() => a.read('Patient', id), () => a.read('Patient', 'no-such-id')],
      [() => a.vread('Patient', id, '1'), () => a.vread('Patient', 'no-such-id', '1')],
      [() => a.history('Patient', id), () => a.history('Patient', 'no-such-id')],
      [() => a.delete('Patient', id), () => a.delete('Patient', 'no-such-id')],
    ] as const) {
      const denied = await failure(op());
      expect(denied.status).toBe(404);
      expect(denied).toEqual(await failure(missing()));
    }
    expect((await b.read<Patient>('Patient', id)).gender).toBe('female');
  });

  it('update with their id never touches their resource', async () => {
    const id = theirs.id ?? '';
    expect((await failure(a.update<Patient>({ ...theirs, gender: 'male' }, { ifMatch: 'W/"1"' }))).status).toBe(412);
    const mine = await a.update<Patient>({ ...theirs, gender: 'male' });
    expect(mine.meta?.versionId).toBe('1');
    const original = await b.read<Patient>('Patient', id);
    expect(original.gender).toBe('female');
    expect(original.meta?.versionId).toBe('1');
    await a.delete('Patient', id);
    expect((await b.read<Patient>('Patient', id)).gender).toBe('female');
  });

  it('search, _include and _revinclude never return another tenant’s resources', async () => {
    expect(await a.searchResources('Patient', { identifier: 'urn:m|T-1' })).toEqual([]);
    expect(await a.searchResources('Patient', { _id: theirs.id ?? '' })).toEqual([]);
    expect(await a.searchResources('Coverage', {})).toEqual([]);
    const mine = await a.create(coverage(theirs.id ?? ''));
    const included = await a.search('Coverage', { _include: 'Coverage:beneficiary' });
    expect(included.entry?.map((e) => e.resource?.id)).toEqual([mine.id]);
    const own = await a.create<Patient>(patient());
    const rev = await a.search('Patient', { _id: `${own.id},${theirs.id}`, _revinclude: 'Coverage:beneficiary' });
    expect(rev.entry?.map((e) => e.resource?.id)).toEqual([own.id]);
    const total = await a.search('Patient', { identifier: 'T-1', _total: 'accurate' });
    expect(total.total).toBe(0);
  });
});
