/**
 * The store keeps the planner's statistics fresh as it grows, also when everything is written in transactions
 * (each a new Database object) and in bulk (a transaction Bundle writes 500 resources a statement).
 */
import { expect, it } from 'vitest';
import type { Patient } from '@medplum/fhirtypes';
import type { Database } from '../../infra/database.js';
import { patient, testAccess } from '../../testing/fixtures.js';
import { withStores } from '../../testing/stores.js';
import { createRepository } from '../repository.js';
import { refreshStaleStatistics, statisticsRefresh } from './statistics.js';

/** The planner's idea of how many rows fhir_resources holds. */
async function plannedRows(db: Database): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    "SELECT reltuples::float8 AS n FROM pg_class WHERE relname = 'fhir_resources'",
  );
  return Number(rows[0]?.n);
}

withStores('planner statistics', (getDb) => {
  it('counts writes made in transactions toward their database, and analyses after 50', async () => {
    const db = getDb();
    for (let i = 0; i < 50; i++) {
      await db.transaction((tx) => createRepository(tx, testAccess()).create(patient({ id: `stat-${i}` })));
    }
    await statisticsRefresh(db);
    expect(await plannedRows(db)).toBeGreaterThanOrEqual(50);
  });

  it('analyses a table that a bulk write changed by more than 10%', async () => {
    const db = getDb();
    await db.transaction((tx) =>
      createRepository(tx, testAccess()).createMany<Patient>(
        Array.from({ length: 1200 }, (_, i) => patient({ id: `bulk-${i}` })),
      ),
    );
    await statisticsRefresh(db);
    expect(await refreshStaleStatistics(db)).toContain('fhir_resources');
    expect(await plannedRows(db)).toBeGreaterThanOrEqual(1250);
  });
});
