/** The one SQL interface both stores implement (database.ts opens them), and a transaction seen through it. */
export interface QueryOptions {
  /**
   * Work no request is waiting for (the audit trail): on PGlite it may wait for idle CPU, and its waiting does not
   * raise the database thread's priority (see pglite-thread.ts). PostgreSQL runs it like any other statement.
   */
  background?: boolean;
}

export interface Database {
  query<R>(sql: string, params?: unknown[], options?: QueryOptions): Promise<{ rows: R[] }>;
  /** Runs `fn` in one transaction; a nested call joins the enclosing transaction. */
  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  readonly kind: 'postgres' | 'pglite';
  /** PostgreSQL's connection pool, for metrics (the embedded database has none). */
  poolStats?(): { total: number; idle: number; waiting: number };
  /**
   * For a transaction, the database it runs in: work that outlives the transaction (the store's statistics
   * refresh) must go there, never to a connection that is released when the transaction ends.
   */
  readonly root?: Database;
}

/** A Database bound to one open transaction: a nested `transaction` joins it; ending it is its owner's job. */
export function joinedTransaction(kind: Database['kind'], query: Database['query'], root?: Database): Database {
  const self: Database = { kind, query, transaction: (fn) => fn(self), close: () => Promise.resolve(), root };
  return self;
}
