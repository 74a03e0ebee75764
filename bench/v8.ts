/**
 * Memory behaviours that depend on V8 internals (heap spaces, forced collections, hidden classes), which change
 * with Node versions without any behaviour changing: measured here, not asserted in the test suite.
 *
 * 1. Calls in flight by id: a `Map` against a null-prototype object, the two ways of holding them. A Map that keeps
 * taking new keys and deleting old ones rebuilds its table every few calls, and V8 links each replaced table to its
 * successor, so once one replaced table sits in the old generation each scavenge promotes the later ones with the
 * calls they held, until the next mark-compact. This measures what that costs: bytes promoted to the old generation,
 * and time per call, for a steady stream of calls (four in flight, ~1 KB each, with young-generation collections).
 * 2. Request states (`requestContext`) stay in fast mode and share one hidden class: a getter defined per request
 *    on `ctx.state` once made every state a dictionary-mode object, promoted ~1.3 KB a request to the old
 *    generation.
 * 3. The audit writer lets go of written events while the load goes on (its queue never empty when a batch ends).
 *
 * Run: `npm run bench -- v8`.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Koa from 'koa';
import type { Context } from 'koa';
import { AuditWriter, type AuditRecord } from '../packages/server/src/bots/audit.js';
import type { Database } from '../packages/server/src/infra/database.js';
import { openPglite } from '../packages/server/src/infra/pglite-thread.js';
import { createLogger } from '../packages/server/src/infra/logger.js';
import { runMigrations } from '../packages/server/src/infra/migrations/index.js';
import { requestContext } from '../packages/server/src/infra/request-context.js';

interface Table {
  set(id: number, value: object): void;
  take(id: number): void;
}

const CALLS = 20_000;

function oldSpaceUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
}

function mapTable(): Table {
  const map = new Map<number, object>();
  return { set: (id, value) => void map.set(id, value), take: (id) => void map.delete(id) };
}

function objectTable(): Table {
  const entries = Object.create(null) as Record<number, object>;
  return {
    set: (id, value) => void (entries[id] = value),
    take: (id) => void delete entries[id],
  };
}

function measure(table: Table, gc: Gc): { promoted: number; us: number } {
  for (let id = -3; id <= 0; id++) table.set(id, {});
  // The table's own storage starts in the old generation, as a long-lived server's does.
  gc({ type: 'major' });
  gc({ type: 'major' });
  const before = oldSpaceUsed();
  const started = performance.now();
  for (let id = 1; id <= CALLS; id++) {
    table.set(id, { payload: new Array<number>(120).fill(id) });
    table.take(id - 4);
    if (id % 250 === 0) gc({ type: 'minor' });
  }
  const us = ((performance.now() - started) * 1000) / CALLS;
  return { promoted: oldSpaceUsed() - before, us };
}

type Gc = (options?: { type: 'minor' | 'major' }) => void;

export async function benchV8(): Promise<void> {
  setFlagsFromString('--expose-gc');
  setFlagsFromString('--allow-natives-syntax');
  const gc = runInNewContext('gc') as Gc;
  callTables(gc);
  await requestStates();
  process.stdout.write(`audit writer let go of a written event under load: ${await auditReleases(gc)}\n`);
}

function callTables(gc: Gc): void {
  process.stdout.write(`${CALLS} calls, 4 in flight; old-generation bytes promoted, µs per call (incl. forced GCs)\n`);
  for (let round = 1; round <= 3; round++) {
    // The object first: the Map's promoted garbage, swept later, would blur the object's figure.
    for (const [name, make] of [
      ['null-prototype object', objectTable],
      ['Map', mapTable],
    ] as const) {
      const { promoted, us } = measure(make(), gc);
      process.stdout.write(
        `round ${round}  ${name.padEnd(22)} ${String(promoted).padStart(10)} B  ${us.toFixed(2)} µs\n`,
      );
    }
  }
}

async function requestStates(): Promise<void> {
  const through = async (): Promise<Context> => {
    const app = new Koa();
    const ctx = app.createContext(
      { headers: {}, method: 'GET', url: '/x', socket: {} } as never,
      { setHeader() {}, getHeader() {}, removeHeader() {}, getHeaders: () => ({}) } as never,
    );
    await requestContext(createLogger('silent'))(ctx, async () => undefined);
    return ctx;
  };
  const fast = new Function('a', 'return %HasFastProperties(a)') as (a: object) => boolean;
  const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
  const [a, b, c] = [await through(), await through(), await through()];
  process.stdout.write(
    `request states in fast mode: ${[a, b, c].map((x) => fast(x.state)).join(', ')}; ` +
      `one hidden class: ${sameMap(b.state, c.state)}\n`,
  );
}

/** Every statement the writer sends queues one more event, as a steady stream of calls would. */
async function auditReleases(gc: Gc): Promise<boolean> {
  const db = await openPglite();
  try {
    await runMigrations(db);
    const record = (n: number): AuditRecord => ({
      projectId: '00000000-0000-4000-8000-0000000000a1',
      subtype: 'execute',
      botId: `bot-${n}`,
      outcome: 'success',
      durationMs: n,
    });
    let writes = 0;
    let writer: AuditWriter | undefined;
    const feeding: Database = {
      ...db,
      query: (sql, params) => {
        writes++;
        void writer?.add(record(writes));
        return db.query(sql, params);
      },
      transaction: (fn) => db.transaction((tx) => fn({ ...tx, query: feeding.query })),
    };
    writer = new AuditWriter(feeding, createLogger('silent'), { intervalMs: 60_000, batchSize: 10_000 });
    const first = (() => {
      const r = record(0);
      void writer.add(r);
      return new WeakRef(r);
    })();
    const flushed = writer.flush();
    while (writes < 20) await new Promise((resolve) => setTimeout(resolve, 1));
    gc();
    const released = first.deref() === undefined;
    writer = undefined;
    await flushed;
    return released;
  } finally {
    await db.close();
  }
}
