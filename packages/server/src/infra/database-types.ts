/** The one SQL interface both stores implement (database.ts opens them). */
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
}
