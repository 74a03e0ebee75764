/**
 * Planner statistics for the store tables. The search SQL relies on them to start from the selective index:
 * without them PostgreSQL assumes one row per table and picks nested scans that are 50x slower. PostgreSQL's
 * autovacuum refreshes them eventually; PGlite has no autovacuum at all. So the store refreshes them itself as
 * the data grows: after 50, 200, 1,000 writes and every 5,000 after that, in the background.
 */
import type { Database } from '../../infra/database.js';

const writes = new WeakMap<Database, number>();

/** No request waits for it: on PGlite it runs with idle CPU (see QueryOptions). */
function analyzeStore(db: Database): Promise<void> {
  return db.query('ANALYZE fhir_resources, fhir_index, fhir_history', [], { background: true }).then(() => undefined);
}

export function noteWrite(db: Database): void {
  const count = (writes.get(db) ?? 0) + 1;
  writes.set(db, count);
  if (count === 50 || count === 200 || count === 1000 || count % 5000 === 0) {
    // A failure only leaves older statistics behind.
    analyzeStore(db).catch(() => undefined);
  }
}
