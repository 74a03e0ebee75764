/**
 * PGlite on a worker thread. PGlite runs PostgreSQL compiled to WebAssembly synchronously on whichever thread
 * owns it; on the event loop every statement (the batched audit writes above all) stalled the requests in flight.
 * Here the event loop only posts statements and receives rows (structured clone keeps `Date`, `bigint`, bytes and
 * parsed JSON). Transactions are held open in the worker by id; PGlite's own lock serialises everything else
 * behind an open transaction, as it did on the main thread.
 * The thread runs `pglite-worker.ts`, which also enforces the statement timeout.
 */
import { Worker } from 'node:worker_threads';
import { backgroundPriority, type BackgroundPriority } from './background-priority.js';
import { joinedTransaction, type Database } from './database-interface.js';
import type { Ready, Reply, Request, WireError, WorkerOptions } from './pglite-worker.js';

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
  const worker = startWorker({
    ...(options.dir !== undefined ? { dir: options.dir } : {}),
    statementTimeoutMs: options.statementTimeoutMs ?? 0,
  });
  // `background`: no request waits for the statement, so its wait does not raise the thread's priority.
  const pending = new Map<
    number,
    {
      at: number;
      background: boolean;
      resolve(reply: Reply): void;
      reject(err: Error): void;
    }
  >();
  let nextId = 1;
  let gone: Error | undefined;
  let priority: BackgroundPriority | undefined;

  /** The thread is gone: fail what waits on it, and stop watching its priority (there is no thread to restore). */
  const stop = (err: Error) => {
    gone ??= err;
    void priority?.stop(false);
    const waiting = [...pending.values()];
    pending.clear();
    for (const p of waiting) p.reject(err);
  };
  let tid: number | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: Ready) => {
        if (m.ready) {
          tid = m.tid;
          resolve();
        } else reject(new DatabaseError(m.error));
      });
      worker.once('error', reject);
      worker.once('exit', () => reject(new DatabaseError({ message: 'The database thread exited while starting' })));
    });
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  worker.on('message', (reply: Reply) => {
    const p = pending.get(reply.id);
    pending.delete(reply.id);
    p?.resolve(reply);
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
        pending.delete(id);
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

  const inTransaction = (tx: number): Database =>
    joinedTransaction('pglite', (sql, params) => query(sql, params, tx), db);

  const db: Database = {
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
  return db;
}

/**
 * The worker runs `pglite-worker` from `dist`; from the TypeScript sources (tests, `npm run dev`), tsx loads it,
 * registered inside the worker as worker threads do not inherit the parent's module hooks on Node 20.
 */
function startWorker(workerData: WorkerOptions): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./pglite-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(boot, { eval: true, workerData });
}
