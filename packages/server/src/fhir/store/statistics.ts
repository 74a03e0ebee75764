/**
 * Planner statistics for the store tables. The search SQL relies on them to start from the selective index:
 * without them PostgreSQL assumes one row per table and picks nested scans that are 50x slower. PostgreSQL's
 * autovacuum refreshes them eventually; PGlite has no autovacuum at all. So the store refreshes them itself as
 * the data grows: after 50, 200, 1,000 writes and every 5,000 after that, in the background.
 */
import type { Database, QueryOptions } from '../../infra/database.js';

const writes = new WeakMap<Database, number>();

export function analyzeStore(db: Database, options: QueryOptions = {}): Promise<void> {
  return db.query('ANALYZE fhir_resources, fhir_index, fhir_history', [], options).then(() => undefined);
}

export function noteWrite(db: Database): void {
  const count = (writes.get(db) ?? 0) + 1;
  writes.set(db, count);
  if (count === 50 || count === 200 || count === 1000 || count % 5000 === 0) {
    // A failure only leaves older statistics behind.
    analyzeStore(db, { background: true }).catch(() => undefined);
  }
}
