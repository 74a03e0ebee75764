/**
 * Values loaded from the database and kept for the hot path, dropped on change on every instance: `changed(key)`
 * drops the key here and publishes it on the cache's channel, and every instance drops it when the message arrives
 * (Redis pub/sub when configured). Concurrent readers share one load; a failed load is forgotten.
 *
 * A message can be lost (Redis pub/sub delivers nothing to a subscriber while its connection is down), so every
 * entry also expires: `ttlMs` bounds how long an instance can serve a value changed elsewhere, and when the shared
 * state reconnects, everything cached is dropped at once. Optional: a size bound (the oldest entry goes) and a hook
 * run whenever a key is dropped by a change.
 */
import type { SharedState } from './shared-state.js';

export interface InvalidatedCacheOptions {
  /** How long an entry is served before it is loaded again, changed or not. */
  ttlMs: number;
  maxEntries?: number;
  onDrop?(key: string): void;
  /** The clock (tests). */
  now?: () => number;
}

export class InvalidatedCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expires: number }>();
  private readonly now: () => number;

  constructor(
    private readonly shared: SharedState,
    private readonly channel: string,
    private readonly options: InvalidatedCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    // Whatever changed while the connection was down went unannounced: load everything again.
    this.shared.onReconnect(() => this.clear());
    await this.shared.subscribe(this.channel, (key) => this.drop(key));
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    // An expired key is reloaded in place of itself, as the newest entry, not at another entry's expense.
    if (hit) this.entries.delete(key);
    const { maxEntries, ttlMs } = this.options;
    if (maxEntries !== undefined && this.entries.size >= maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    const entry = { value: load(), expires: this.now() + ttlMs };
    this.entries.set(key, entry);
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.value;
  }

  /** Drops the key on this instance only. */
  drop(key: string): void {
    this.entries.delete(key);
    this.options.onDrop?.(key);
  }

  /**
   * Drops every entry on this instance, as if all had expired (`onDrop` is not run: a reloaded value that differs
   * carries its own version).
   */
  clear(): void {
    this.entries.clear();
  }

  /** Drops the key here and tells every other instance. */
  async changed(key: string): Promise<void> {
    this.drop(key);
    await this.shared.publish(this.channel, key);
  }
}
