/**
 * Calls in flight, by id. Not a `Map`: a Map that keeps taking new keys and deleting old ones rebuilds its table
 * every few calls, and V8 links each replaced table to its successor. Once one replaced table has been promoted to
 * the old generation, each scavenge keeps the tables after it alive, and with them the calls they held (their
 * promises, and through those the whole request), until the next mark-compact. The entries of a null-prototype
 * object are rebuilt without such links. Numeric ids iterate in ascending order, other keys in insertion order.
 */
export class CallTable<T> {
  private entries = Object.create(null) as Record<string, T>;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number | string): T | undefined {
    return this.entries[id];
  }

  set(id: number | string, value: T): void {
    if (!(id in this.entries)) this.count++;
    this.entries[id] = value;
  }

  /** Removes the entry and returns it. */
  take(id: number | string): T | undefined {
    if (!(id in this.entries)) return undefined;
    const value = this.entries[id];
    delete this.entries[id];
    this.count--;
    return value;
  }

  values(): T[] {
    return Object.values(this.entries);
  }

  /** Removes every entry and returns them. */
  clear(): T[] {
    const all = this.values();
    this.entries = Object.create(null) as Record<string, T>;
    this.count = 0;
    return all;
  }
}
