import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { hasChrt, idleThreads, SCHED_OTHER, threadPolicy } from '../testing/thread-policy.js';
import { canLeaveIdle } from './background-priority.js';
import type { Database } from './database.js';
import { DatabaseError, openPglite } from './pglite-thread.js';

// One instance for the file (an in-memory PGlite takes seconds to initialise); each test starts from an empty table.
let db: Database;

beforeAll(async () => {
  db = await openPglite();
});

beforeEach(async () => {
  await db.query('DROP TABLE IF EXISTS t');
  await db.query('CREATE TABLE t (id int PRIMARY KEY, at timestamptz, doc jsonb)');
});

afterAll(async () => {
  await db.close();
});

it('returns typed values across the thread: dates, parsed JSON, nulls', async () => {
  await db.query('INSERT INTO t VALUES ($1, $2, $3::jsonb)', [1, '2026-01-02T03:04:05Z', '{"a":[1]}']);
  await db.query('INSERT INTO t VALUES (2, NULL, NULL)');
  const { rows } = await db.query<{ id: number; at: Date | null; doc: unknown }>('SELECT * FROM t ORDER BY id');
  expect(rows[0]?.at).toBeInstanceOf(Date);
  expect(rows[0]?.at?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
  expect(rows).toEqual([
    { id: 1, at: new Date('2026-01-02T03:04:05Z'), doc: { a: [1] } },
    { id: 2, at: null, doc: null },
  ]);
});

it('rejects with the PostgreSQL message and SQLSTATE', async () => {
  await db.query('INSERT INTO t (id) VALUES (1)');
  const err = await db.query('INSERT INTO t (id) VALUES (1)').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DatabaseError);
  expect((err as DatabaseError).code).toBe('23505');
  expect((err as DatabaseError).message).toMatch(/duplicate key/);
  // The stack names the caller, not only the thread's message plumbing.
  expect((err as DatabaseError).stack).toContain('pglite-thread.test.ts');
});

it('runs other statements only after an open transaction ends', async () => {
  const order: string[] = [];
  let outside: Promise<unknown> | undefined;
  await db.transaction(async (tx) => {
    await tx.query('INSERT INTO t (id) VALUES (1)');
    outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t').then((r) => {
      order.push(`outside saw ${r.rows[0]?.n}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await tx.query('INSERT INTO t (id) VALUES (2)');
    order.push('committing');
  });
  await outside;
  expect(order).toEqual(['committing', 'outside saw 2']);
});

it('rolls back when the transaction function throws, and keeps serving', async () => {
  await expect(
    db.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id) VALUES (1)');
      throw new Error('abort');
    }),
  ).rejects.toThrow('abort');
  await expect(
    db.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id) VALUES (2)');
      await tx.query('INSERT INTO t (id) VALUES (2)');
    }),
  ).rejects.toThrow(/duplicate key/);
  expect((await db.query('SELECT id FROM t')).rows).toEqual([]);
});

it('rejects a transaction whose COMMIT fails (a deferred constraint) and keeps nothing of it', async () => {
  await db.query('DROP TABLE IF EXISTS d');
  await db.query('CREATE TABLE d (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)');
  await expect(
    db.transaction(async (tx) => {
      await tx.query('INSERT INTO d VALUES (1)');
      await tx.query('INSERT INTO d VALUES (1)');
    }),
  ).rejects.toThrow(/duplicate key/);
  expect((await db.query('SELECT id FROM d')).rows).toEqual([]);
  await db.transaction((tx) => tx.query('INSERT INTO d VALUES (2)'));
  expect((await db.query('SELECT id FROM d')).rows).toEqual([{ id: 2 }]);
});

it('refuses a parameter that cannot cross the thread, and keeps serving', async () => {
  await expect(db.query('SELECT $1::text AS x', [() => 1])).rejects.toThrow(/Cannot send the statement/);
  expect((await db.query('SELECT 1 AS x')).rows).toEqual([{ x: 1 }]);
});

it('leaves the event loop free while a statement runs', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    await db.query('SELECT count(*) FROM generate_series(1, 3000000)');
  } finally {
    clearInterval(timer);
  }
  expect(ticks).toBeGreaterThan(5);
});

it.runIf(process.platform === 'linux')(
  'runs its thread at idle priority when asked and allowed, at normal priority for a statement that waits',
  async () => {
    expect(idleThreads()).toEqual([]);
    const background = await openPglite({ background: true });
    try {
      const idle = idleThreads();
      // Without chrt (util-linux) or the right to undo it, the thread is left as it is.
      expect(idle).toHaveLength(canLeaveIdle() && hasChrt() ? 1 : 0);
      expect(idle).not.toContain(String(process.pid));
      expect((await background.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
      if (idle[0]) {
        // ~1 s of work: well past the 50 ms after which a waiting statement raises the thread.
        const slow = background.query('SELECT count(*) FROM generate_series(1, 4000000)');
        await vi.waitFor(() => expect(threadPolicy(idle[0] as string)).toBe(SCHED_OTHER), { timeout: 900 });
        await slow;
      }
    } finally {
      await background.close();
    }
    expect(idleThreads()).toEqual([]);
  },
);

it.runIf(process.platform === 'linux')(
  "raises the thread for a request's statement that waits, never for a background one",
  async () => {
    let oldestWaitMs: (() => number) | undefined;
    const watched = await openPglite({
      background: true,
      watchPriority: (_tid, waitMs) => {
        oldestWaitMs = waitMs;
        return Promise.resolve(undefined);
      },
    });
    const waited = () => (oldestWaitMs as () => number)();
    const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
    try {
      expect(oldestWaitMs).toBeDefined();
      await watched.query('CREATE TABLE t (id int)');
      let audit: Promise<unknown> | undefined;
      let request: Promise<unknown> | undefined;
      // An open transaction holds every other statement back.
      await watched.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES (1)');
        audit = watched.query('INSERT INTO t VALUES (2)', [], { background: true });
        await pause();
        expect(waited()).toBe(0);
        request = watched.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
        await pause();
        expect(waited()).toBeGreaterThan(0);
      });
      await audit;
      expect(await request).toEqual({ rows: [{ n: 2 }] });
      expect(waited()).toBe(0);
    } finally {
      await watched.close();
    }
  },
);

it('fails a statement that waited longer than the statement timeout without running it', async () => {
  const limited = await openPglite({ statementTimeoutMs: 300 });
  try {
    await limited.query('CREATE TABLE marks (v int)');
    const slow = limited.query('SELECT pg_sleep(1)');
    const queued = limited.query('INSERT INTO marks VALUES (1)').catch((e: unknown) => e);
    await slow;
    const err = await queued;
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as DatabaseError).code).toBe('57014');
    // It never ran, and the database serves the next statement.
    expect((await limited.query('SELECT count(*)::int AS n FROM marks')).rows).toEqual([{ n: 0 }]);
    await limited.transaction((tx) => tx.query('INSERT INTO marks VALUES (2)'));
    expect((await limited.query('SELECT v FROM marks')).rows).toEqual([{ v: 2 }]);
  } finally {
    await limited.close();
  }
});

it('refuses statements once closed (last: closes the shared instance)', async () => {
  await db.close();
  await expect(db.query('SELECT 1')).rejects.toThrow('The database is closed');
  await db.close();
});
