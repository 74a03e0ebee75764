/**
 * Versioned migrations, run at start-up on PostgreSQL and PGlite alike. All pending migrations run in one
 * transaction holding a PostgreSQL advisory lock, so two instances starting together apply each version once.
 */
import type { Database } from '../database.js';
import { statements as initial } from './001_initial.js';
import { statements as projectSettings } from './002_project_settings.js';
import { statements as partialSearchIndexes } from './003_partial_search_indexes.js';
import { statements as clientRoles } from './004_client_roles.js';
import { statements as serverRecordedEvents } from './005_server_recorded_events.js';
import { statements as uniqueNames } from './006_unique_names.js';
import { statements as priorAuthorization } from './010_prior_authorization.js';
import { statements as deliveries } from './011_deliveries.js';
import { statements as interruptedRequests } from './012_interrupted_requests.js';
import { statements as credentialGeneration } from './013_credential_generation.js';
import { statements as clientCertificates } from './014_client_certificates.js';
import { statements as memberAccess } from './015_member_access.js';
import { statements as historyByTime } from './016_history_by_time.js';
import { statements as bulkExport } from './018_bulk_export.js';
import { statements as consoleUsers } from './019_console_users.js';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const migrations: Migration[] = [
  { version: 1, name: 'initial', statements: initial },
  { version: 2, name: 'project settings', statements: projectSettings },
  { version: 3, name: 'partial search indexes', statements: partialSearchIndexes },
  { version: 4, name: 'client roles', statements: clientRoles },
  { version: 5, name: 'server-recorded events', statements: serverRecordedEvents },
  { version: 6, name: 'unique project names and rule-set ids', statements: uniqueNames },
  { version: 10, name: 'prior authorization', statements: priorAuthorization },
  { version: 11, name: 'deliveries', statements: deliveries },
  { version: 12, name: 'interrupted prior authorization requests', statements: interruptedRequests },
  { version: 13, name: 'client credential generation', statements: credentialGeneration },
  { version: 14, name: 'client certificates', statements: clientCertificates },
  { version: 15, name: 'member access', statements: memberAccess },
  { version: 16, name: 'history by time', statements: historyByTime },
  { version: 18, name: 'bulk export jobs', statements: bulkExport },
  { version: 19, name: 'console users', statements: consoleUsers },
];

/** Arbitrary constant naming Hookbot's migration lock among the database's advisory locks. */
const MIGRATION_LOCK_KEY = 72_617_001;

export async function runMigrations(db: Database, list: Migration[] = migrations): Promise<number[]> {
  const applied = await applyPending(db, list);
  // Fresh planner statistics at start-up: PGlite has no autovacuum to gather them (see fhir/store/statistics.ts).
  await db.query('ANALYZE');
  return applied;
}

function applyPending(db: Database, list: Migration[]): Promise<number[]> {
  return db.transaction(async (tx) => {
    // Migrations (and waiting for another instance's) may take longer than requests' statement timeout.
    await tx.query('SET LOCAL statement_timeout = 0');
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const migration of [...list].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) {
        continue;
      }
      for (const sql of migration.statements) {
        await tx.query(sql);
      }
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return applied;
  });
}
