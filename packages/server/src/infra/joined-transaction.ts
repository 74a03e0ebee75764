import type { Database } from './database-types.js';

/** A Database bound to one open transaction: a nested `transaction` joins it; ending it is its owner's job. */
export function joinedTransaction(kind: Database['kind'], query: Database['query']): Database {
  const self: Database = { kind, query, transaction: (fn) => fn(self), close: () => Promise.resolve() };
  return self;
}
