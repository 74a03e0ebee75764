import { expect, it } from 'vitest';
import type { Database } from '../infra/database.js';
import { createRepository } from '../fhir/repository.js';
import { testAccess } from '../testing/fixtures.js';
import { fakeServices } from '../testing/services.js';
import { withStores } from '../testing/stores.js';
import { toAuditEvent } from './feedback.js';
import { feedbackStats } from './feedback-stats.js';

const item = (card: string, outcome: 'accepted' | 'overridden', minute = 0) => ({
  card,
  outcome,
  acceptedSuggestions: [],
  outcomeTimestamp: new Date(Date.UTC(2026, 2, 1, 10, minute)).toISOString(),
});

withStores('CDS feedback statistics', (getDb) => {
  it('sum acceptance per service and card over the feedback the server recorded only', async () => {
    const access = testAccess();
    const repo = createRepository(getDb(), access);
    await repo.createMany(
      [
        toAuditEvent('svc-a', 'ehr', item('c1', 'accepted')),
        toAuditEvent('svc-a', 'ehr', item('c1', 'overridden')),
        toAuditEvent('svc-a', 'ehr', item('c2', 'accepted')),
        toAuditEvent('svc-b', 'ehr', item('c1', 'overridden')),
      ],
      { serverRecorded: true },
    );
    await repo.create(toAuditEvent('svc-a', 'forger', item('c1', 'accepted')));
    await createRepository(getDb(), testAccess()).createMany([toAuditEvent('svc-a', 'x', item('c1', 'accepted'))], {
      serverRecorded: true,
    });
    expect(await feedbackStats(fakeServices(getDb()), access.projectId)).toEqual([
      {
        serviceId: 'svc-a',
        accepted: 2,
        overridden: 1,
        cards: [
          { card: 'c1', accepted: 1, overridden: 1 },
          { card: 'c2', accepted: 1, overridden: 0 },
        ],
      },
      { serviceId: 'svc-b', accepted: 0, overridden: 1, cards: [{ card: 'c1', accepted: 0, overridden: 1 }] },
    ]);
  });

  it('count each event once while new feedback arrives during the read', async () => {
    const access = testAccess();
    const repo = createRepository(getDb(), access);
    const early = Array.from({ length: 1001 }, (_, i) => toAuditEvent('svc', 'ehr', item('early', 'accepted', i % 60)));
    await repo.createMany(early, { serverRecorded: true });
    // Feedback that arrives after the statistics' first statement: newer than all the others.
    let arrived = false;
    const db = getDb();
    const arriving: Database = {
      ...db,
      query: async (sql, params, options) => {
        const result = await db.query(sql, params, options);
        if (!arrived) {
          arrived = true;
          const late = Array.from({ length: 5 }, () => toAuditEvent('svc', 'ehr', item('late', 'overridden', 59)));
          await repo.createMany(late, { serverRecorded: true });
        }
        return result as never;
      },
    };
    const [service] = await feedbackStats(fakeServices(arriving), access.projectId);
    expect(service?.cards.find((c) => c.card === 'early')).toEqual({ card: 'early', accepted: 1001, overridden: 0 });
  });
});
