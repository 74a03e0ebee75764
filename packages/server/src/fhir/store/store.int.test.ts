import type { AuditEvent, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../infra/database.js';
import { HookbotError } from '../../infra/errors.js';
import { auditEvent, bot, coverage, patient, testAccess } from '../../testing/fixtures.js';
import { withStores } from '../../testing/stores.js';
import { createRepository } from '../repository.js';
import { registerResourceValidator } from '../validation.js';

async function rejection(promise: Promise<unknown>): Promise<HookbotError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HookbotError);
  return err as HookbotError;
}

/** A database whose transactions fail on the first statement matching `pattern`. */
function failingOn(db: Database, pattern: RegExp): Database {
  const wrap = (inner: Database): Database => ({
    kind: inner.kind,
    query: (sql, params) =>
      pattern.test(sql) ? Promise.reject(new Error('injected failure')) : inner.query(sql, params),
    transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
    close: () => inner.close(),
  });
  return wrap(db);
}

withStores('FHIR store', (getDb) => {
  const repo = (access = testAccess()) => createRepository(getDb(), access, { baseUrl: 'http://hookbot.test' });

  describe('createMany', () => {
    it('writes every resource, searchable, in one go', async () => {
      const r = repo();
      const created = await r.createMany([
        patient({ name: [{ family: 'Many-1' }] }),
        patient({ name: [{ family: 'Many-2' }] }),
      ]);
      expect(created.map((p) => p.meta?.versionId)).toEqual(['1', '1']);
      const found = await r.searchResources<Patient>('Patient', { family: 'Many-' });
      expect(found.map((p) => p.name?.[0]?.family).sort()).toEqual(['Many-1', 'Many-2']);
      expect((await r.history('Patient', created[0]?.id as string)).entry).toHaveLength(1);
    });

    it('writes nothing when one resource is invalid or a statement fails', async () => {
      const r = repo();
      await rejection(
        r.createMany([patient({ name: [{ family: 'Never-1' }] }), { resourceType: 'NotAType' } as never]),
      );
      const failing = createRepository(failingOn(getDb(), /INSERT INTO fhir_index/), testAccess());
      await expect(failing.createMany([patient({ name: [{ family: 'Never-2' }] })])).rejects.toThrow(
        'injected failure',
      );
      expect(await r.searchResources('Patient', { family: 'Never-' })).toHaveLength(0);
    });

    it('prepares a batch in slices, letting the event loop run between them, and writes it as one', async () => {
      const access = testAccess();
      const r = repo(access);
      const families = ['Slice-1', 'Slice-2', 'Slice-3', 'Slice-4', 'Slice-5'];
      // Event-loop turns taken before the statement was sent: none unless preparing yields between slices.
      let turns = 0;
      let spinning = true;
      const spin = () => {
        turns++;
        if (spinning) setImmediate(spin);
      };
      setImmediate(spin);
      const statements: { sql: string; turns: number }[] = [];
      const counting = createRepository(
        { ...getDb(), query: (sql, params) => (statements.push({ sql, turns }), getDb().query(sql, params)) },
        access,
      );
      try {
        await counting.createMany(
          families.map((family) => patient({ name: [{ family }] })),
          { slice: 2 },
        );
      } finally {
        spinning = false;
      }
      const inserts = statements.filter((s) => s.sql.includes('INSERT INTO fhir_resources'));
      expect(inserts).toHaveLength(1);
      expect(inserts[0]?.turns).toBeGreaterThanOrEqual(2);
      const found = await r.searchResources<Patient>('Patient', { family: 'Slice-' });
      expect(found.map((p) => p.name?.[0]?.family).sort()).toEqual(families);

      await rejection(
        r.createMany([patient({ name: [{ family: 'Sliced-never' }] }), { resourceType: 'NotAType' } as never], {
          slice: 1,
        }),
      );
      expect(await r.searchResources('Patient', { family: 'Sliced-never' })).toHaveLength(0);
    });
  });

  describe('create and read', () => {
    it('assigns id, versionId 1 and lastUpdated, and reads it back', async () => {
      const r = repo();
      const created = await r.create<Patient>(
        patient({ id: 'client-chosen', meta: { versionId: '9', tag: [{ code: 't' }] } }),
      );
      expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.meta?.versionId).toBe('1');
      expect(created.meta?.tag).toEqual([{ code: 't' }]);
      expect(Date.parse(created.meta?.lastUpdated ?? '')).not.toBeNaN();
      expect(await r.read('Patient', created.id ?? '')).toEqual(created);
    });

    it('answers 404 for a missing id', async () => {
      expect((await rejection(repo().read('Patient', 'missing'))).status).toBe(404);
    });

    it('rejects unsupported resource types with 400', async () => {
      const err = await rejection(repo().create({ resourceType: 'Observation', status: 'final', code: {} } as never));
      expect(err.status).toBe(400);
      expect((await rejection(repo().read('Observation', 'x'))).status).toBe(400);
    });

    it('rejects invalid structure with 400 naming the field', async () => {
      const err = await rejection(repo().create(patient({ birthDate: 'yesterday' })));
      expect(err.status).toBe(400);
      expect(err.issues[0]?.expression).toEqual(['Patient.birthDate']);
    });

    it('rejects a bad id and non-object bodies', async () => {
      const err = await rejection(repo().update(patient({ id: 'bad id!' })));
      expect(err.status).toBe(400);
      expect(err.issues[0]?.expression).toEqual(['Patient.id']);
      expect((await rejection(repo().create([] as never))).status).toBe(400);
    });

    it('accepts a Bot with cdsService and calls registered validators', async () => {
      const r = repo();
      const stored = await r.create(bot('b', 'order-sign'));
      expect(stored.cdsService).toEqual({ hook: 'order-sign', title: 'b title', description: 'b description' });
      const remove = registerResourceValidator('Bot', (b) =>
        b.name === 'bad'
          ? [{ severity: 'error', code: 'required', diagnostics: 'nope', expression: ['Bot.cdsService.hook'] }]
          : [],
      );
      try {
        const err = await rejection(r.create(bot('bad', 'order-sign')));
        expect(err.status).toBe(400);
        expect(err.issues[0]?.expression).toEqual(['Bot.cdsService.hook']);
      } finally {
        remove();
      }
    });
  });

  describe('update, versions and history', () => {
    it('increments versions, keeps every version for vread and history', async () => {
      const r = repo();
      const v1 = await r.create<Patient>(patient());
      const v2 = await r.update<Patient>({ ...v1, gender: 'female' });
      expect(v2.meta?.versionId).toBe('2');
      expect((await r.vread<Patient>('Patient', v1.id ?? '', '1')).gender).toBeUndefined();
      expect((await r.vread<Patient>('Patient', v1.id ?? '', '2')).gender).toBe('female');
      expect((await rejection(r.vread('Patient', v1.id ?? '', '3'))).status).toBe(404);
      const history = await r.history('Patient', v1.id ?? '');
      expect(history.type).toBe('history');
      expect(history.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['2', '1']);
    });

    it('honours If-Match and answers 412 on a stale version', async () => {
      const r = repo();
      const v1 = await r.create<Patient>(patient());
      const v2 = await r.update<Patient>({ ...v1, gender: 'male' }, { ifMatch: 'W/"1"' });
      expect(v2.meta?.versionId).toBe('2');
      const err = await rejection(r.update<Patient>({ ...v1, gender: 'other' }, { ifMatch: 'W/"1"' }));
      expect(err.status).toBe(412);
      expect((await r.read<Patient>('Patient', v1.id ?? '')).gender).toBe('male');
    });

    it('creates on update when the id does not exist (update as create)', async () => {
      const r = repo();
      const created = await r.update(patient({ id: 'chosen-id' }));
      expect(created.meta?.versionId).toBe('1');
      expect((await r.read('Patient', 'chosen-id')).id).toBe('chosen-id');
    });

    it('requires an id on update', async () => {
      expect((await rejection(repo().update(patient()))).status).toBe(400);
    });
  });

  describe('delete', () => {
    it('deletes: read answers 410, history keeps the deletion, search no longer finds it', async () => {
      const r = repo();
      const p = await r.create(patient({ gender: 'unknown' }));
      await r.delete('Patient', p.id ?? '');
      expect((await rejection(r.read('Patient', p.id ?? ''))).status).toBe(410);
      const history = await r.history('Patient', p.id ?? '');
      expect(history.entry?.map((e) => e.request?.method)).toEqual(['DELETE', 'POST']);
      expect(await r.searchResources('Patient', { gender: 'unknown' })).toEqual([]);
      await r.delete('Patient', p.id ?? '');
      expect((await rejection(r.delete('Patient', 'missing'))).status).toBe(404);
    });

    it('recreates a deleted resource with a later version on update', async () => {
      const r = repo();
      const p = await r.create<Patient>(patient());
      await r.delete('Patient', p.id ?? '');
      const again = await r.update<Patient>({ ...p, gender: 'male' });
      expect(again.meta?.versionId).toBe('3');
      expect((await r.read<Patient>('Patient', p.id ?? '')).gender).toBe('male');
    });
  });

  describe('scopes', () => {
    it('answers 403 for interactions the policy does not allow, before touching data', async () => {
      const access = testAccess(undefined, { Patient: 'rs' });
      const r = repo(access);
      expect((await rejection(r.create(patient()))).status).toBe(403);
      expect((await rejection(r.update(patient({ id: 'x' })))).status).toBe(403);
      expect((await rejection(r.delete('Patient', 'x'))).status).toBe(403);
      expect((await rejection(r.search('Coverage', {}))).status).toBe(403);
      expect((await rejection(r.read('Coverage', 'x'))).status).toBe(403);
      expect(await r.searchResources('Patient', {})).toEqual([]);
    });

    it('leaves out _include targets the caller may not read', async () => {
      const projectId = testAccess().projectId;
      const full = repo(testAccess(projectId));
      const p = await full.create(patient());
      await full.create(coverage(p.id ?? ''));
      const limited = repo(testAccess(projectId, { Coverage: 'rs' }));
      const bundle = await limited.search('Coverage', { _include: 'Coverage:beneficiary' });
      expect(bundle.entry?.map((e) => e.resource?.resourceType)).toEqual(['Coverage']);
    });
  });

  describe('transactions', () => {
    it('a create that fails while indexing leaves nothing behind', async () => {
      const access = testAccess();
      const failing = createRepository(failingOn(getDb(), /INSERT INTO fhir_index/), access);
      await expect(failing.create(patient())).rejects.toThrow('injected failure');
      const { rows } = await getDb().query<{ n: number }>(
        `SELECT (SELECT count(*) FROM fhir_resources WHERE project_id = $1)::int
              + (SELECT count(*) FROM fhir_history WHERE project_id = $1)::int AS n`,
        [access.projectId],
      );
      expect(rows[0]?.n).toBe(0);
    });

    it('an update that fails while indexing keeps the previous version intact', async () => {
      const access = testAccess();
      const p = await repo(access).create<Patient>(patient({ gender: 'male' }));
      const failing = createRepository(failingOn(getDb(), /INSERT INTO fhir_index/), access);
      await expect(failing.update<Patient>({ ...p, gender: 'female' })).rejects.toThrow('injected failure');
      const r = repo(access);
      expect((await r.read<Patient>('Patient', p.id ?? '')).meta?.versionId).toBe('1');
      expect((await r.history('Patient', p.id ?? '')).entry).toHaveLength(1);
      expect(await r.searchResources('Patient', { gender: 'male' })).toHaveLength(1);
    });
  });

  describe('append-only AuditEvents', () => {
    const historyRows = async (projectId: string) =>
      (
        await getDb().query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_history WHERE project_id = $1', [
          projectId,
        ])
      ).rows[0]?.n;

    it('are written without a history row and read back as their one version', async () => {
      const access = testAccess();
      const r = repo(access);
      const [many] = await r.createMany([auditEvent('b1')]);
      const one = await r.create(auditEvent('b2'));
      expect(await historyRows(access.projectId)).toBe(0);
      for (const event of [many, one] as AuditEvent[]) {
        const id = event.id ?? '';
        expect((await r.vread<AuditEvent>('AuditEvent', id, '1')).entity).toEqual(event.entity);
        await expect(r.vread('AuditEvent', id, '2')).rejects.toMatchObject({ status: 404 });
        const history = await r.history('AuditEvent', id);
        expect(history.entry?.map((e) => e.response?.etag)).toEqual(['W/"1"']);
        expect(history.entry?.[0]?.resource).toEqual(event);
      }
      expect(await r.searchResources('AuditEvent', { entity: 'Bot/b2' })).toHaveLength(1);
    });

    it('refuse update, update-as-create and delete with 405, whatever the scopes, and stay as they were', async () => {
      const access = testAccess();
      const r = repo(access);
      const event = await r.create<AuditEvent>(auditEvent('b1'));
      const id = event.id ?? '';
      const refusals = [
        await rejection(r.update({ ...event, outcome: '8' })),
        await rejection(r.update({ ...auditEvent('b1'), id: 'chosen-id' })),
        await rejection(r.delete('AuditEvent', id)),
      ];
      expect(refusals.map((e) => e.status)).toEqual([405, 405, 405]);
      expect(refusals[0]?.message).toContain('append-only');
      expect(refusals[0]?.headers.Allow).toBe('GET, HEAD');
      expect(await r.read('AuditEvent', id)).toEqual(event);
      await expect(r.read('AuditEvent', 'chosen-id')).rejects.toMatchObject({ status: 404 });
      const readOnly = repo(testAccess(access.projectId, { AuditEvent: 'rs' }));
      expect((await rejection(readOnly.delete('AuditEvent', id))).status).toBe(403);
    });

    it('keep the history rows of events written before AuditEvent became append-only', async () => {
      const access = testAccess();
      const r = repo(access);
      const event = await r.create<AuditEvent>(auditEvent('b1'));
      await getDb().query(
        `INSERT INTO fhir_history (project_id, resource_type, id, version_id, last_updated, deleted, content)
         SELECT project_id, resource_type, id, 1, last_updated, false, content || '{"outcome":"4"}'
         FROM fhir_resources WHERE project_id = $1`,
        [access.projectId],
      );
      const history = await r.history('AuditEvent', event.id ?? '');
      expect(history.entry?.map((e) => (e.resource as AuditEvent).outcome)).toEqual(['4']);
    });
  });
});
