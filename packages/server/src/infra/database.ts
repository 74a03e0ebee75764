/**
 * One SQL interface over PostgreSQL (`pg` Pool, when `DATABASE_URL` is set) and PGlite (embedded, persisted in
 * `<data dir>/pglite`, run on its own thread: see pglite-thread.ts). Both speak the same dialect: callers use `$1`
 * placeholders and plain PostgreSQL.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { joinedTransaction, type Database } from './database-interface.js';
import type { Logger } from './logger.js';
import { openPglite } from './pglite-thread.js';

export type { Database, QueryOptions } from './database-interface.js';

/** PostgreSQL's unique_violation (SQLSTATE 23505), as `pg` and the PGlite thread both report it. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

export interface OpenDatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  /** PGlite only: run its thread at background priority where possible. */
  background?: boolean;
  /** Where PostgreSQL connection errors go. */
  log?: Logger;
  /** PostgreSQL's `statement_timeout` (PGlite: see pglite-thread.ts); 0 or unset: none. */
  statementTimeoutMs?: number;
  /** PostgreSQL connections per instance (default 10). */
  poolSize?: number;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const { log, statementTimeoutMs, poolSize } = options;
    return openPostgres(options.databaseUrl, { log, statementTimeoutMs, poolSize });
  }
  const dir = join(options.dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  return openPglite({
    dir,
    background: options.background === true,
    ...(options.statementTimeoutMs ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
  });
}

export interface PostgresOptions {
  /** Where connection errors go. */
  log?: Logger;
  /** PostgreSQL's `statement_timeout`; 0 or unset: none. */
  statementTimeoutMs?: number | undefined;
  poolSize?: number | undefined;
}

export function openPostgres(connectionString: string, options: PostgresOptions = {}): Promise<Database> {
  const { log, statementTimeoutMs, poolSize = 10 } = options;
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs } : {}),
  });
  // An idle client losing its connection must not crash the process (the next query reconnects), but it is logged:
  // the message and code only, never the connection string.
  pool.on('error', (err: Error & { code?: string }) => {
    log?.error({ err: { message: err.message, code: err.code } }, 'PostgreSQL idle connection error');
  });
  const db: Database = {
    kind: 'postgres',
    query: async <R>(sql: string, params?: unknown[]) => ({ rows: (await pool.query(sql, params)).rows as R[] }),
    transaction: async (fn) => {
      const client = await pool.connect();
      // A checked-out client has no pool listener: its connection ending between two statements (a PostgreSQL
      // restart) would be an uncaught 'error' event and end the process. The transaction's next statement fails
      // instead, and the pool destroys the client on release.
      const onError = (err: Error & { code?: string }) =>
        log?.error({ err: { message: err.message, code: err.code } }, 'PostgreSQL connection lost in a transaction');
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(clientTx(client, db));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.off('error', onError);
        client.release();
      }
    },
    close: () => pool.end(),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
  return Promise.resolve(db);
}

function clientTx(client: pg.PoolClient, root: Database): Database {
  return joinedTransaction(
    'postgres',
    async <R>(sql: string, params?: unknown[]) => ({ rows: (await client.query(sql, params)).rows as R[] }),
    root,
  );
}
