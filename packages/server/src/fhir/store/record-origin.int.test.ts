import type { AuditEvent, Patient } from '@medplum/fhirtypes';
import { expect, it } from 'vitest';
import { migrations } from '../../infra/migrations/index.js';
import { auditEvent, patient, testAccess } from '../../testing/fixtures.js';
import { withStores } from '../../testing/stores.js';
import { RECORD_ORIGIN_SYSTEM, SERVER_RECORDED_TAG } from '../record-origin.js';
import { createRepository } from '../repository.js';

const SERVER_TAG_QUERY = { _tag: `${RECORD_ORIGIN_SYSTEM}|server` };

withStores('server-recorded events', (getDb) => {
  const repo = (access = testAccess()) => createRepository(getDb(), access, { baseUrl: 'http://hookbot.test' });

  it('are tagged by the store when the server records them, and searchable by the tag', async () => {
    const r = repo();
    const [event] = await r.createMany([auditEvent('b1')], { serverRecorded: true, serverBuilt: true });
    expect(event?.meta?.tag).toEqual([SERVER_RECORDED_TAG]);
    expect(await r.read('AuditEvent', event?.id ?? '')).toEqual(event);
    expect((await r.searchResources('AuditEvent', SERVER_TAG_QUERY)).map((e) => e.id)).toEqual([event?.id]);
  });

  it('cannot be forged: a client write claiming the tag is refused with 403 and stores nothing', async () => {
    const r = repo();
    const [genuine] = await r.createMany([auditEvent('b1')], { serverRecorded: true });
    const { id: _id, ...copy } = genuine as AuditEvent;
    const otherCode = { ...copy, meta: { tag: [{ system: RECORD_ORIGIN_SYSTEM, code: 'anything' }] } };
    const refused = [
      r.create(copy),
      r.create(otherCode),
      r.createMany([copy]),
      r.update({ ...patient(), id: 'p-claims', meta: { tag: [SERVER_RECORDED_TAG] } } as Patient),
    ];
    for (const attempt of refused) await expect(attempt).rejects.toMatchObject({ status: 403 });
    expect(await r.searchResources('AuditEvent', SERVER_TAG_QUERY)).toHaveLength(1);
    await expect(r.read('Patient', 'p-claims')).rejects.toMatchObject({ status: 404 });
  });

  it('are told apart from AuditEvents a client writes, which stay allowed and carry no tag', async () => {
    const r = repo();
    const own = await r.create(auditEvent('b1'));
    expect(own.meta?.tag).toBeUndefined();
    expect(await r.searchResources('AuditEvent', SERVER_TAG_QUERY)).toHaveLength(0);
    expect(await r.searchResources('AuditEvent', { entity: 'Bot/b1' })).toHaveLength(1);
  });

  it('written before the tag existed are marked by the migration when they have the server shape', async () => {
    const access = testAccess();
    const r = repo(access);
    const older = await r.create(auditEvent('b1'));
    const foreign = await r.create(auditEvent('b1', { source: { observer: { display: 'claims-system' } } }));
    const migration = migrations.find((m) => m.version === 5);
    for (const sql of migration?.statements ?? []) await getDb().query(sql);
    const tagged = await r.searchResources<AuditEvent>('AuditEvent', SERVER_TAG_QUERY);
    expect(tagged.map((e) => e.id)).toEqual([older.id]);
    expect(tagged[0]?.meta?.tag).toEqual([SERVER_RECORDED_TAG]);
    expect((await r.read<AuditEvent>('AuditEvent', foreign.id ?? '')).meta?.tag).toBeUndefined();
  });
});
