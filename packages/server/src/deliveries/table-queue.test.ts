import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Database } from '../infra/database.js';
import { createLogger } from '../infra/logger.js';
import { TableDeliveryQueue } from './table-queue.js';

/** A delivery_jobs table that never has a due job; `nextDueMs` is what the table says about the next one. */
function emptyTable(nextDueMs: number | null = null) {
  const claims: number[] = [];
  const db: Database = {
    kind: 'postgres',
    query: <R>(sql: string) => {
      if (sql.trimStart().startsWith("UPDATE delivery_jobs SET status = 'running'")) claims.push(Date.now());
      const rows = sql.includes('wait_ms') ? [{ wait_ms: nextDueMs }] : [];
      return Promise.resolve({ rows: rows as R[] });
    },
    transaction: (fn) => fn(db),
    close: () => Promise.resolve(),
  };
  return { db, claims };
}

const policy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 };
const log = createLogger('silent');
const ok = () => Promise.resolve({ ok: true as const });
const noop = () => Promise.resolve();

describe('the delivery table queue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not poll an empty table at the short interval', async () => {
    const { db, claims } = emptyTable();
    const queue = new TableDeliveryQueue(db, policy, log, 50);
    queue.start(ok, noop);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(claims).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(claims).toHaveLength(2);
    await queue.close();
  });

  it('polls at the short interval after adding jobs here, whose transaction may not have committed yet', async () => {
    const { db, claims } = emptyTable();
    const queue = new TableDeliveryQueue(db, policy, log, 50);
    queue.start(ok, noop);
    await vi.advanceTimersByTimeAsync(100);
    await queue.add([{ id: 'j1', projectId: 'p', target: { kind: 'callback', id: 'c' }, body: {} }]);
    const before = claims.length;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(claims.length - before).toBeGreaterThanOrEqual(20);
    await queue.close();
  });

  it('keeps the short poll for jobs added while an idle drain was looking', async () => {
    const { db, claims } = emptyTable();
    let answer: (() => void) | undefined;
    const slow: Database = {
      ...db,
      query: async <R>(sql: string, params?: unknown[]) => {
        if (sql.includes('wait_ms')) await new Promise<void>((resolve) => (answer = resolve));
        return db.query<R>(sql, params);
      },
    };
    const queue = new TableDeliveryQueue(slow, policy, log, 50);
    queue.start(ok, noop);
    await vi.advanceTimersByTimeAsync(10);
    expect(answer).toBeDefined();
    await queue.add([{ id: 'j1', projectId: 'p', target: { kind: 'callback', id: 'c' }, body: {} }]);
    answer?.();
    await vi.advanceTimersByTimeAsync(100);
    expect(claims.length).toBeGreaterThanOrEqual(2);
    await queue.close();
  });

  it('wakes when the next retry the table holds is due', async () => {
    const { db, claims } = emptyTable(1_500);
    const queue = new TableDeliveryQueue(db, policy, log, 50);
    queue.start(ok, noop);
    await vi.advanceTimersByTimeAsync(1_400);
    expect(claims).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(claims).toHaveLength(2);
    await queue.close();
  });
});
