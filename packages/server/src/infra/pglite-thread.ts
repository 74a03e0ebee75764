/**
 * PGlite on a worker thread. PGlite runs PostgreSQL compiled to WebAssembly synchronously on whichever thread
 * owns it; on the event loop every statement (the batched audit writes above all) stalled the requests in flight.
 * Here the event loop only posts statements and receives rows (structured clone keeps `Date`, `bigint`, bytes and
 * parsed JSON). Transactions are held open in the worker by id; PGlite's own lock serialises everything else
 * behind an open transaction, as it did on the main thread.
 *
 * Statement timeout: PGlite cannot interrupt a running statement (WebAssembly has no signal to cancel it with), so
 * the worker starts statements outside a transaction, and transactions, one at a time in arrival order, and fails
 * one that has waited longer than the timeout without starting it (SQLSTATE 57014, as PostgreSQL's
 * `statement_timeout` would). A backlog (a burst of requests, a bot's abandoned client calls) therefore ends
 * after the timeout instead of holding the database for every statement behind it. Statements of an open
 * transaction bypass the queue (its own lock makes everything else wait for them).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CallTable } from '@hookbot/runtime';
import { backgroundPriority, type BackgroundPriority } from './background-priority.js';
import { joinedTransaction, type Database } from './database-interface.js';

type Request =
  | { op: 'query'; sql: string; params: unknown[]; tx?: number; at?: number }
  | { op: 'begin'; at?: number }
  | { op: 'commit' | 'rollback'; tx: number }
  | { op: 'close' };

type Reply = { id: number; ok: true; rows?: unknown[]; tx?: number } | { id: number; ok: false; error: WireError };

interface WireError {
  message: string;
  code?: string;
  detail?: string;
}

/**
 * The worker's code. It is evaluated (not loaded from a file) so that the same code runs from the TypeScript
 * sources in tests and from `dist` in production; it needs nothing but PGlite's CommonJS build.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglite);
let tid;
try {
  tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
} catch {}
const open = new Map();
let nextTx = 1;
const wire = (err) => ({
  message: err instanceof Error ? err.message : String(err),
  ...(err && typeof err.code === 'string' ? { code: err.code } : {}),
  ...(err && typeof err.detail === 'string' ? { detail: err.detail } : {}),
});
const reply = (id, result) => parentPort.postMessage({ id, ok: true, ...result });
const failed = (id, err) => parentPort.postMessage({ id, ok: false, error: wire(err) });
const ROLLBACK = Symbol('rollback');
const timeoutMs = workerData.statementTimeoutMs;
// Statements outside a transaction, and transactions to begin, in arrival order; each is started when the one
// before it has finished (a transaction: has started).
const queue = [];
let running = false;
const pump = () => {
  while (!running && queue.length > 0) {
    const { id, at, start } = queue.shift();
    if (timeoutMs > 0 && Date.now() - at > timeoutMs) {
      failed(id, Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }));
      continue;
    }
    running = true;
    start(() => {
      running = false;
      pump();
    });
  }
};
const enqueue = (id, at, start) => {
  queue.push({ id, at: at ?? Date.now(), start });
  pump();
};
PGlite.create(workerData.dir).then(
  (db) => {
    parentPort.on('message', ({ id, request }) => {
      switch (request.op) {
        case 'query': {
          if (request.tx === undefined) {
            enqueue(id, request.at, (done) =>
              db.query(request.sql, request.params).then(
                (r) => (done(), reply(id, { rows: r.rows })),
                (e) => (done(), failed(id, e)),
              ),
            );
            return;
          }
          const target = open.get(request.tx)?.tx;
          if (!target) return failed(id, new Error('The transaction has ended'));
          target.query(request.sql, request.params).then((r) => reply(id, { rows: r.rows }), (e) => failed(id, e));
          return;
        }
        case 'begin': {
          enqueue(id, request.at, (done) => {
            const tx = nextTx++;
            let started = false;
            db.transaction(
              (handle) =>
                new Promise((resolve, reject) => {
                  started = true;
                  open.set(tx, { tx: handle, resolve, reject });
                  done();
                  reply(id, { tx });
                }),
            ).then(
              () => open.get(tx)?.settled(),
              (e) => (started ? open.get(tx)?.settled(e === ROLLBACK ? undefined : e) : (done(), failed(id, e))),
            );
          });
          return;
        }
        case 'commit':
        case 'rollback': {
          const entry = open.get(request.tx);
          if (!entry) return failed(id, new Error('The transaction has ended'));
          entry.settled = (err) => {
            open.delete(request.tx);
            if (err === undefined) reply(id, {});
            else failed(id, err);
          };
          if (request.op === 'commit') entry.resolve();
          else entry.reject(ROLLBACK);
          return;
        }
        case 'close':
          db.close().then(() => reply(id, {}), (e) => failed(id, e));
          return;
      }
    });
    parentPort.postMessage({ ready: true, tid });
  },
  (err) => parentPort.postMessage({ ready: false, error: wire(err) }),
);
`;

export class DatabaseError extends Error {
  readonly code?: string;
  readonly detail?: string;

  constructor(wire: WireError) {
    super(wire.message);
    this.name = 'DatabaseError';
    if (wire.code !== undefined) this.code = wire.code;
    if (wire.detail !== undefined) this.detail = wire.detail;
  }
}

const CLOSE_TIMEOUT_MS = 5000;

function withStack(err: DatabaseError, site: Error): DatabaseError {
  const frames = site.stack?.split('\n').slice(1).join('\n');
  if (frames) err.stack = `${err.name}: ${err.message}\n${frames}`;
  return err;
}

export interface PgliteOptions {
  /** In memory when omitted. */
  dir?: string;
  /** Run the database thread at idle priority where possible (see background-priority.ts). */
  background?: boolean;
  /** A statement that waited longer than this without starting fails (57014) unrun; 0 or unset: no limit. */
  statementTimeoutMs?: number;
  /** Watches the thread's priority (tests replace it); given how long the oldest request's statement has waited. */
  watchPriority?: (tid: number, oldestWaitMs: () => number) => Promise<BackgroundPriority | undefined>;
}

/** PGlite on its own thread. */
export async function openPglite(options: PgliteOptions = {}): Promise<Database> {
  const pglite = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { pglite, dir: options.dir, statementTimeoutMs: options.statementTimeoutMs ?? 0 },
  });
  // `background`: no request waits for the statement, so its wait does not raise the thread's priority.
  const pending = new CallTable<{
    at: number;
    background: boolean;
    resolve(reply: Reply): void;
    reject(err: Error): void;
  }>();
  let nextId = 1;
  let gone: Error | undefined;
  let priority: BackgroundPriority | undefined;

  /** The thread is gone: fail what waits on it, and stop watching its priority (there is no thread to restore). */
  const stop = (err: Error) => {
    gone ??= err;
    void priority?.stop(false);
    for (const p of pending.clear()) p.reject(err);
  };
  let tid: number | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: { ready: boolean; tid?: number; error?: WireError }) => {
        tid = m.tid;
        if (m.ready) resolve();
        else reject(new DatabaseError(m.error ?? { message: 'PGlite failed to start' }));
      });
      worker.once('error', reject);
      worker.once('exit', () => reject(new DatabaseError({ message: 'The database thread exited while starting' })));
    });
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  worker.on('message', (reply: Reply) => {
    pending.take(reply.id)?.resolve(reply);
  });
  worker.on('error', (err) => stop(new DatabaseError({ message: `The database thread failed: ${err.message}` })));
  worker.on('exit', () => stop(new DatabaseError({ message: 'The database is closed' })));

  const call = (request: Request, background = false): Promise<{ rows?: unknown[]; tx?: number }> => {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    // The caller's frames, for a failure that arrives from the worker with none of its own.
    const site = new Error();
    return new Promise((resolve, reject) => {
      pending.set(id, {
        at: performance.now(),
        background,
        resolve: (reply) => (reply.ok ? resolve(reply) : reject(withStack(new DatabaseError(reply.error), site))),
        reject,
      });
      if (!background) priority?.watch();
      try {
        // When it was sent, on the wall clock the worker shares: its wait counts from here.
        worker.postMessage({
          id,
          request: request.op === 'query' || request.op === 'begin' ? { ...request, at: Date.now() } : request,
        });
      } catch (err) {
        // A parameter that cannot be cloned (a function, a symbol) fails here, before anything reached the worker.
        pending.take(id);
        reject(new DatabaseError({ message: `Cannot send the statement: ${(err as Error).message}` }));
      }
    });
  };
  const query = async <R>(sql: string, params: unknown[] = [], tx?: number, background = false) => ({
    rows: ((await call({ op: 'query', sql, params, tx }, background)).rows ?? []) as R[],
  });

  // Ids only grow, so entries come oldest first (there are a few at a time). A background statement ahead of a
  // request's still holds it up: the request's wait raises the thread, and the background statement runs raised.
  const oldestWaitMs = () => {
    for (const p of pending.values()) if (!p.background) return performance.now() - p.at;
    return 0;
  };
  if (options.background && tid !== undefined && Number.isInteger(tid)) {
    priority = await (options.watchPriority ?? backgroundPriority)(tid, oldestWaitMs);
  }

  const inTransaction = (tx: number): Database => joinedTransaction('pglite', (sql, params) => query(sql, params, tx));

  return {
    kind: 'pglite',
    query: (sql, params, queryOptions) => query(sql, params, undefined, queryOptions?.background === true),
    transaction: async <T>(fn: (tx: Database) => Promise<T>): Promise<T> => {
      const { tx } = await call({ op: 'begin' });
      if (tx === undefined) throw new DatabaseError({ message: 'The transaction did not start' });
      let result: T;
      try {
        result = await fn(inTransaction(tx));
      } catch (err) {
        await call({ op: 'rollback', tx }).catch(() => undefined);
        throw err;
      }
      await call({ op: 'commit', tx });
      return result;
    },
    close: async () => {
      // PGlite's last statements and its own close run at normal priority: shutdown must not wait for idle CPU.
      await priority?.stop();
      if (gone) return;
      // PGlite's close waits for an open transaction; shutdown does not wait for ever.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        call({ op: 'close' }).catch(() => undefined),
        new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}
