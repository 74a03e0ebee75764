/**
 * What server instances must share: one-time markers (JWT `jti` replay), counters (rate limits) and pub/sub
 * (cache invalidation). Redis when `REDIS_URL` is set; otherwise an in-process implementation of the same
 * interface serves a single instance.
 */
import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

export type Listener = (message: string) => void;

export interface SharedState {
  readonly kind: 'redis' | 'embedded';
  /** Sets `key` for `ttlSeconds` unless it exists; true when this call set it (Redis `SET NX EX`). */
  setOnce(key: string, ttlSeconds: number): Promise<boolean>;
  /** Increments a counter that expires `ttlSeconds` after its first increment; returns the new value. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, listener: Listener): Promise<void>;
  /** The value of a counter set by `increment`; 0 when it has expired or was never set. */
  count(key: string): Promise<number>;
  /**
   * Runs `listener` whenever pub/sub comes back after a lost connection: messages published meanwhile were not
   * delivered, so whoever relies on them must resynchronise.
   */
  onReconnect(listener: () => void): void;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Each key is also listed under the second its entry ends in, and the first call of every second drops the keys
 * listed under the seconds that have passed (a key whose entry was renewed since is left alone). So a sweep costs the
 * listed seconds (at most the longest TTL's) and the keys that expired, never a walk of all entries: at 1,000 client
 * JWTs a second the 15-minute `jti` window holds 900,000 markers, and walking them once a second held the event loop
 * ~13 ms each time.
 */
export class MemorySharedState implements SharedState {
  readonly kind = 'embedded' as const;
  private readonly expiries = new Map<string, number>();
  private readonly counters = new Map<string, number>();
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Epoch second → the keys whose entries end in it. */
  private readonly endingIn = new Map<number, string[]>();
  /** The first second not swept yet. */
  private nextSweep = Math.floor(Date.now() / 1000);

  /** Markers and counters held, expired ones not yet swept included. */
  get size(): number {
    return this.expiries.size + this.counters.size;
  }

  private live(key: string, now: number): boolean {
    const expiry = this.expiries.get(key);
    if (expiry === undefined) return false;
    if (expiry > now) return true;
    this.expiries.delete(key);
    this.counters.delete(key);
    return false;
  }

  private setExpiry(key: string, at: number): void {
    this.expiries.set(key, at);
    // Swept once `now` reaches the end of this second, by when the entry has expired.
    const second = Math.ceil(at / 1000);
    const keys = this.endingIn.get(second);
    if (keys) keys.push(key);
    else this.endingIn.set(second, [key]);
  }

  private sweep(now: number): void {
    const current = Math.floor(now / 1000);
    if (current < this.nextSweep) return;
    this.nextSweep = current + 1;
    for (const [second, keys] of this.endingIn) {
      if (second > current) continue;
      for (const key of keys) this.live(key, now);
      this.endingIn.delete(second);
    }
  }

  async setOnce(key: string, ttlSeconds: number): Promise<boolean> {
    const now = Date.now();
    if (this.live(key, now)) return false;
    this.sweep(now);
    this.setExpiry(key, now + ttlSeconds * 1000);
    return true;
  }

  async increment(key: string, ttlSeconds: number): Promise<number> {
    const now = Date.now();
    this.sweep(now);
    if (!this.live(key, now)) this.setExpiry(key, now + ttlSeconds * 1000);
    const value = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, value);
    return value;
  }

  async publish(channel: string, message: string): Promise<void> {
    for (const listener of this.listeners.get(channel) ?? []) listener(message);
  }

  async subscribe(channel: string, listener: Listener): Promise<void> {
    const set = this.listeners.get(channel) ?? new Set();
    set.add(listener);
    this.listeners.set(channel, set);
  }

  async count(key: string): Promise<number> {
    return this.live(key, Date.now()) ? (this.counters.get(key) ?? 0) : 0;
  }

  /** In process, no message is ever lost: the listener is never needed. */
  onReconnect(_listener: () => void): void {}

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

export class RedisSharedState implements SharedState {
  readonly kind = 'redis' as const;
  private readonly client: Redis;
  private subscriber?: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly reconnectListeners: (() => void)[] = [];

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly log?: Logger,
  ) {
    // Bounded retries: a Redis outage surfaces as an error to the caller instead of a hang.
    this.client = new Redis(url, { enableOfflineQueue: true, maxRetriesPerRequest: 2, lazyConnect: false });
    this.watch(this.client, 'commands');
  }

  /**
   * Logs a connection's errors (ioredis retries on its own; an unhandled 'error' event would crash the process)
   * once per distinct message until it is ready again, since every retry repeats the same error. Only the message
   * and code: the connection URL may carry a password.
   */
  private watch(connection: Redis, role: 'commands' | 'pub/sub', onReconnect?: () => void): void {
    let lastError: string | undefined;
    let wasReady = false;
    connection.on('error', (err: Error & { code?: string }) => {
      if (err.message === lastError) return;
      lastError = err.message;
      this.log?.error({ err: { message: err.message, code: err.code }, redis: role }, 'Redis connection error');
    });
    connection.on('ready', () => {
      if (wasReady) {
        this.log?.info({ redis: role }, 'Redis connection restored');
        onReconnect?.();
      }
      wasReady = true;
      lastError = undefined;
    });
  }

  async setOnce(key: string, ttlSeconds: number): Promise<boolean> {
    const result = await this.client.set(this.prefix + key, '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX');
    return result === 'OK';
  }

  async increment(key: string, ttlSeconds: number): Promise<number> {
    const full = this.prefix + key;
    const [[, value]] = (await this.client
      .multi()
      .incr(full)
      .expire(full, Math.max(1, Math.ceil(ttlSeconds)), 'NX')
      .exec()) as [[Error | null, number], [Error | null, number]];
    return value;
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.prefix + channel, message);
  }

  async subscribe(channel: string, listener: Listener): Promise<void> {
    if (!this.subscriber) {
      // A subscribed connection cannot issue other commands, so pub/sub gets its own.
      // Named, so an operator (or a test) can tell it apart in CLIENT LIST.
      this.subscriber = this.client.duplicate({
        connectionName: `hookbot-pubsub-${this.prefix.replace(/[^\w:.-]/g, '_')}`,
      });
      this.watch(this.subscriber, 'pub/sub', () => {
        for (const listener of this.reconnectListeners) listener();
      });
      this.subscriber.on('message', (full: string, message: string) => {
        for (const l of this.listeners.get(full.slice(this.prefix.length)) ?? []) l(message);
      });
    }
    const set = this.listeners.get(channel) ?? new Set();
    if (set.size === 0) await this.subscriber.subscribe(this.prefix + channel);
    set.add(listener);
    this.listeners.set(channel, set);
  }

  async count(key: string): Promise<number> {
    return Number((await this.client.get(this.prefix + key)) ?? 0) || 0;
  }

  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Deletes every key under this instance's prefix (tests). */
  async clearPrefix(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      if (keys.length) await this.client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.subscriber?.quit(), this.client.quit()]);
  }
}

export function createSharedState(redisUrl: string | undefined, prefix: string, log?: Logger): SharedState {
  return redisUrl ? new RedisSharedState(redisUrl, prefix, log) : new MemorySharedState();
}
