import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { pgliteFromTemplate } from '../testing/pglite-template.js';
import { createTestPostgresDatabase, withStores } from '../testing/stores.js';
import { openDatabase } from './database.js';

withStores('database', (getDb) => {
  it('rolls a failed transaction back, nested calls included', async () => {
    const db = getDb();
    await db.query('CREATE TABLE IF NOT EXISTS tx_probe (x int)');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe VALUES (1)');
        await tx.transaction((inner) => inner.query('INSERT INTO tx_probe VALUES (2)'));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await db.query('SELECT * FROM tx_probe')).rows).toEqual([]);
    await db.transaction((tx) => tx.query('INSERT INTO tx_probe VALUES (3)'));
    expect((await db.query<{ x: number }>('SELECT x FROM tx_probe')).rows).toEqual([{ x: 3 }]);
  });

  it('passes arrays and jsonb the same way on both stores', async () => {
    const { rows } = await getDb().query<{ a: string[]; j: unknown }>('SELECT $1::text[] AS a, $2::jsonb AS j', [
      ['x', 'y'],
      JSON.stringify({ k: [1] }),
    ]);
    expect(rows).toEqual([{ a: ['x', 'y'], j: { k: [1] } }]);
  });
});

it('PGlite persists in <dataDir>/pglite across restarts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hookbot-db-'));
  await pgliteFromTemplate(dir);
  try {
    const first = await openDatabase({ dataDir: dir });
    expect(first.kind).toBe('pglite');
    await first.query('CREATE TABLE kept (v text)');
    await first.query(`INSERT INTO kept VALUES ('yes')`);
    await first.close();
    const second = await openDatabase({ dataDir: dir });
    expect((await second.query('SELECT v FROM kept')).rows).toEqual([{ v: 'yes' }]);
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('PostgreSQL cancels a statement that runs past the statement timeout', async () => {
  const created = await createTestPostgresDatabase();
  const db = await openDatabase({ databaseUrl: created.url, dataDir: tmpdir(), statementTimeoutMs: 200 });
  try {
    const err = await db.query('SELECT pg_sleep(2)').catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('57014');
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    // Migrations lift it for their own transaction.
    await db.transaction(async (tx) => {
      await tx.query('SET LOCAL statement_timeout = 0');
      await tx.query('SELECT pg_sleep(0.3)');
    });
  } finally {
    await db.close();
    await created.drop();
  }
});
