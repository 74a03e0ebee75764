/**
 * The database thread started by `pglite-thread.ts`: PGlite, answering the statements posted to it.
 *
 * Statement timeout: PGlite cannot interrupt a running statement (WebAssembly has no signal to cancel it with), so
 * statements outside a transaction, and transactions to begin, start one at a time in arrival order, and one that
 * has waited longer than the timeout fails without starting (SQLSTATE 57014, as PostgreSQL's `statement_timeout`
 * would). A backlog (a burst of requests, a bot's abandoned client calls) therefore ends after the timeout instead
 * of holding the database for every statement behind it. Statements of an open transaction bypass the queue
 * (PGlite's own lock makes everything else wait for them).
 */
import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';

export interface WorkerOptions {
  /** In memory when omitted. */
  dir?: string;
  /** 0: no limit. */
  statementTimeoutMs: number;
}

export type Request =
  | { op: 'query'; sql: string; params: unknown[]; tx?: number; at?: number }
  | { op: 'begin'; at?: number }
  | { op: 'commit' | 'rollback'; tx: number }
  | { op: 'close' };

export type Reply =
  { id: number; ok: true; rows?: unknown[]; tx?: number } | { id: number; ok: false; error: WireError };

/** The first message: started (with the thread's Linux id, where there is one) or failed. */
export type Ready = { ready: true; tid?: number } | { ready: false; error: WireError };

export interface WireError {
  message: string;
  code?: string;
  detail?: string;
}

interface OpenTransaction {
  tx: Transaction;
  resolve(): void;
  reject(reason: unknown): void;
  /** Set by commit or rollback: called once PGlite has ended the transaction. */
  settled?: (err?: unknown) => void;
}

interface Queued {
  id: number;
  at: number;
  start(done: () => void): void;
}

const ROLLBACK = Symbol('rollback');

function wire(err: unknown): WireError {
  const fields = typeof err === 'object' && err !== null ? (err as { code?: unknown; detail?: unknown }) : {};
  return {
    message: err instanceof Error ? err.message : String(err),
    ...(typeof fields.code === 'string' ? { code: fields.code } : {}),
    ...(typeof fields.detail === 'string' ? { detail: fields.detail } : {}),
  };
}

function threadId(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
}

function serve(port: NonNullable<typeof parentPort>, options: WorkerOptions): void {
  const post = (m: Reply | Ready) => port.postMessage(m);
  const reply = (id: number, result: { rows?: unknown[]; tx?: number }) => post({ id, ok: true, ...result });
  const failed = (id: number, err: unknown) => post({ id, ok: false, error: wire(err) });
  const open = new Map<number, OpenTransaction>();
  let nextTx = 1;
  const queue: Queued[] = [];
  let running = false;

  // Each queued item starts when the one before it has finished (a transaction: has started).
  const pump = (): void => {
    while (!running && queue.length > 0) {
      const { id, at, start } = queue.shift() as Queued;
      if (options.statementTimeoutMs > 0 && Date.now() - at > options.statementTimeoutMs) {
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
  const enqueue = (id: number, at: number | undefined, start: Queued['start']): void => {
    queue.push({ id, at: at ?? Date.now(), start });
    pump();
  };

  const begin = (db: PGlite, id: number, done: () => void): void => {
    const tx = nextTx++;
    let started = false;
    db.transaction(
      (handle) =>
        new Promise<void>((resolve, reject) => {
          started = true;
          open.set(tx, { tx: handle, resolve, reject });
          done();
          reply(id, { tx });
        }),
    ).then(
      () => open.get(tx)?.settled?.(),
      (e: unknown) => {
        if (started) open.get(tx)?.settled?.(e === ROLLBACK ? undefined : e);
        else {
          done();
          failed(id, e);
        }
      },
    );
  };

  const handle = (db: PGlite, id: number, request: Request): void => {
    switch (request.op) {
      case 'query': {
        if (request.tx === undefined) {
          enqueue(id, request.at, (done) => {
            void db.query(request.sql, request.params).then(
              (r) => (done(), reply(id, { rows: r.rows })),
              (e: unknown) => (done(), failed(id, e)),
            );
          });
          return;
        }
        const target = open.get(request.tx)?.tx;
        if (!target) return failed(id, new Error('The transaction has ended'));
        target.query(request.sql, request.params).then(
          (r) => reply(id, { rows: r.rows }),
          (e: unknown) => failed(id, e),
        );
        return;
      }
      case 'begin':
        enqueue(id, request.at, (done) => begin(db, id, done));
        return;
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
        db.close().then(
          () => reply(id, {}),
          (e: unknown) => failed(id, e),
        );
        return;
    }
  };

  PGlite.create(options.dir).then(
    (db) => {
      port.on('message', ({ id, request }: { id: number; request: Request }) => handle(db, id, request));
      const tid = threadId();
      post({ ready: true, ...(tid !== undefined ? { tid } : {}) });
    },
    (err: unknown) => post({ ready: false, error: wire(err) }),
  );
}

if (parentPort) serve(parentPort, workerData as WorkerOptions);
