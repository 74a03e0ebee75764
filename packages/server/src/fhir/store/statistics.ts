/**
 * Planner statistics for the store tables. The search SQL relies on them to start from the selective index:
 * without them PostgreSQL assumes one row per table and picks nested scans that are 50x slower. PostgreSQL's
 * autovacuum refreshes them eventually (when it is on); PGlite has no autovacuum at all. So the store refreshes them
 * itself as the data grows, in the background:
 * - after 50, 200, 1,000 writes and every 5,000 after that (a write is one call: one resource, or one `createMany`);
 * - and, at most every 15 s while writes go on, when a table has changed by more than 10% since it was last
 *   analysed (autovacuum's own rule), which the count misses on a bulk load: a transaction Bundle writes 500
 *   resources a statement. Measured at 60,000 resources loaded by transaction Bundles with statistics left from the
 *   empty database: a member's AuditEvent search by agent and date scanned every AuditEvent (1.2 s) instead of
 *   starting from the agent (2 ms).
 * Counts are kept per database, not per transaction (`Database.root`): each transaction is a new object.
 */
import type { Database } from '../../infra/database.js';

const TABLES = ['fhir_resources', 'fhir_index', 'fhir_history'];
const CHECK_INTERVAL_MS = 15_000;

interface Upkeep {
  writes: number;
  checkedAt: number;
  running?: Promise<void>;
}

const upkeep = new WeakMap<Database, Upkeep>();

/** No request waits for it: on PGlite it runs with idle CPU (see QueryOptions). */
function analyze(db: Database, tables: string[]): Promise<void> {
  return db.query(`ANALYZE ${tables.join(', ')}`, [], { background: true }).then(() => undefined);
}

/** The store tables changed by more than 10% (and 500 rows) since their last analysis. */
async function staleTables(db: Database): Promise<string[]> {
  // The changes counted so far: a backend reports its counts at most once a second otherwise.
  await db.query('SELECT pg_stat_force_next_flush()', [], { background: true }).catch(() => undefined);
  const { rows } = await db.query<{ relname: string }>(
    `SELECT relname FROM pg_stat_user_tables
     WHERE relname = ANY($1::text[]) AND n_mod_since_analyze > 500 + 0.1 * GREATEST(n_live_tup, 0)`,
    [TABLES],
    { background: true },
  );
  return rows.map((r) => r.relname);
}

function run(state: Upkeep, work: () => Promise<void>): void {
  if (state.running) return;
  // A failure only leaves older statistics behind.
  state.running = work()
    .catch(() => undefined)
    .finally(() => (state.running = undefined));
}

/** Analyses the store tables that changed by more than 10% since their last analysis; what noteWrite runs. */
export async function refreshStaleStatistics(db: Database): Promise<string[]> {
  const stale = await staleTables(db);
  if (stale.length) await analyze(db, stale);
  return stale;
}

/** The refresh under way for `db`'s store, if any (tests wait for it). */
export function statisticsRefresh(db: Database): Promise<void> {
  return upkeep.get(db.root ?? db)?.running ?? Promise.resolve();
}

export function noteWrite(db: Database): void {
  const store = db.root ?? db;
  const state = upkeep.get(store) ?? { writes: 0, checkedAt: performance.now() };
  upkeep.set(store, state);
  const count = ++state.writes;
  if (count === 50 || count === 200 || count === 1000 || count % 5000 === 0) {
    state.checkedAt = performance.now();
    run(state, () => analyze(store, TABLES));
  } else if (performance.now() - state.checkedAt >= CHECK_INTERVAL_MS) {
    state.checkedAt = performance.now();
    run(state, () => refreshStaleStatistics(store).then(() => undefined));
  }
}
