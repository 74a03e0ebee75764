/**
 * Runs one storage test suite once per store: PGlite in a temporary folder and PostgreSQL in a fresh database
 * `hookbot_test_<random>` on `HOOKBOT_TEST_PG_URL`, dropped afterwards. A PostgreSQL that does not answer fails
 * the suite (it is never skipped).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { openDatabase, openPostgres, type Database } from '../infra/database.js';
import { runMigrations } from '../infra/migrations/index.js';
import { pgliteFromTemplate } from './pglite-template.js';

export type StoreKind = Database['kind'];
export const STORE_KINDS: StoreKind[] = ['pglite', 'postgres'];

const TEST_PG_URL = process.env.HOOKBOT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestPostgresDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database on the test PostgreSQL server; `drop()` removes it (closing stray connections). */
export async function createTestPostgresDatabase(): Promise<TestPostgresDatabase> {
  const name = `hookbot_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL for tests is not reachable at HOOKBOT_TEST_PG_URL (${redact(TEST_PG_URL)})`, {
      cause: err,
    });
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) {
    u.password = '***';
  }
  return u.toString();
}

export interface TestStore {
  db: Database;
  close(): Promise<void>;
}

/** An empty, unmigrated store of the given kind. */
export async function openTestStore(kind: StoreKind): Promise<TestStore> {
  if (kind === 'postgres') {
    const created = await createTestPostgresDatabase();
    const db = await openPostgres(created.url);
    return {
      db,
      close: async () => {
        await db.close();
        await created.drop();
      },
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'hookbot-pglite-'));
  await pgliteFromTemplate(dir);
  const db = await openDatabase({ dataDir: dir });
  return {
    db,
    close: async () => {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `withStores('repository', (getDb, kind) => { it(...) })` declares the suite once per store, each against a
 * migrated database opened before and removed after the suite.
 */
export function withStores(name: string, suite: (getDb: () => Database, kind: StoreKind) => void): void {
  for (const kind of STORE_KINDS) {
    describe(`${name} [${kind}]`, () => {
      let store: TestStore | undefined;
      beforeAll(async () => {
        store = await openTestStore(kind);
        await runMigrations(store.db);
      });
      afterAll(async () => {
        await store?.close();
      });
      suite(() => {
        if (!store) {
          throw new Error(`The ${kind} test store did not open`);
        }
        return store.db;
      }, kind);
    });
  }
}
