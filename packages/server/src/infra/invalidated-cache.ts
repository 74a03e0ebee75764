/**
 * Values loaded from the database and kept for the hot path, dropped on change on every instance: `changed(key)`
 * drops the key here and publishes it on the cache's channel, and every instance drops it when the message arrives
 * (Redis pub/sub when configured). Concurrent readers share one load; a failed load is forgotten. Optional: an
 * expiry (bounds staleness after changes made straight in the database), a size bound (the oldest entry goes), and
 * a hook run whenever a key is dropped.
 */
import type { SharedState } from './shared-state.js';

export interface InvalidatedCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  onDrop?(key: string): void;
}

export class InvalidatedCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expires: number }>();

  constructor(
    private readonly shared: SharedState,
    private readonly channel: string,
    private readonly options: InvalidatedCacheOptions = {},
  ) {}

  async start(): Promise<void> {
    await this.shared.subscribe(this.channel, (key) => this.drop(key));
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > Date.now()) return hit.value;
    // An expired key is reloaded in place of itself, as the newest entry, not at another entry's expense.
    if (hit) this.entries.delete(key);
    const { maxEntries, ttlMs } = this.options;
    if (maxEntries !== undefined && this.entries.size >= maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    const entry = { value: load(), expires: ttlMs === undefined ? Infinity : Date.now() + ttlMs };
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

  /** Drops the key here and tells every other instance. */
  async changed(key: string): Promise<void> {
    this.drop(key);
    await this.shared.publish(this.channel, key);
  }
}
