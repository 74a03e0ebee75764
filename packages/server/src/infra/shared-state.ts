/**
 * What server instances must share: one-time markers (JWT `jti` replay, revoked tokens), rate-limit budgets and pub/sub
 * (cache invalidation). Redis when `REDIS_URL` is set; otherwise an in-process implementation of the same
 * interface serves a single instance.
 */
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from './logger.js';
import { unavailable } from './unavailable.js';

export type Listener = (message: string) => void;

/** A budget of `points` calls per `durationSeconds` and key. */
export interface Budget {
  /** Counts one call for `key`: undefined when within budget, else the seconds until the next call is allowed. */
  spend(key: string): Promise<number | undefined>;
  /** Counts one call for `key` whatever the budget (a failure to remember); returns the calls counted. */
  add(key: string): Promise<number>;
  /** The calls counted for `key` in its current window, without counting one. */
  used(key: string): Promise<number>;
}

/** rate-limiter-flexible refuses with a `RateLimiterRes`, and fails with an `Error` when its store does. */
function budgetOf(limiter: RateLimiterAbstract): Budget {
  return {
    async spend(key) {
      try {
        await limiter.consume(key);
        return undefined;
      } catch (refusal) {
        if (refusal instanceof RateLimiterRes) return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
        throw refusal;
      }
    },
    async add(key) {
      return (await limiter.penalty(key, 1)).consumedPoints;
    },
    async used(key) {
      return (await limiter.get(key))?.consumedPoints ?? 0;
    },
  };
}

/** Budgets by name, so every caller naming one shares its counters (an in-process limiter keeps them itself). */
function memoised(budgets: Map<string, Budget>, name: string, create: () => Budget): Budget {
  let budget = budgets.get(name);
  if (!budget) {
    budget = create();
    budgets.set(name, budget);
  }
  return budget;
}

export interface SharedState {
  readonly kind: 'redis' | 'embedded';
  /** Sets `key` for `ttlSeconds` unless it exists; true when this call set it (Redis `SET NX EX`). */
  setOnce(key: string, ttlSeconds: number): Promise<boolean>;
  /** Whether any of `keys` was set (by `setOnce`) and has not expired: one read (Redis `EXISTS`, or Map lookups). */
  exists(...keys: string[]): Promise<boolean>;
  /** A rate-limit budget named `name`, shared by every instance (Redis) or kept in this process. */
  budget(name: string, points: number, durationSeconds: number): Budget;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, listener: Listener): Promise<void>;
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
 * keys that expired, never a walk of all entries (docs/decisions/client-jwt-verification.md).
 */
export class MemorySharedState implements SharedState {
  readonly kind = 'embedded' as const;
  private readonly expiries = new Map<string, number>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly budgets = new Map<string, Budget>();
  /** Epoch second → the keys whose entries end in it. */
  private readonly endingIn = new Map<number, string[]>();
  /** The first second not swept yet. */
  private nextSweep = Math.floor(Date.now() / 1000);

  /** Markers held, expired ones not yet swept included. */
  get size(): number {
    return this.expiries.size;
  }

  private live(key: string, now: number): boolean {
    const expiry = this.expiries.get(key);
    if (expiry === undefined) return false;
    if (expiry > now) return true;
    this.expiries.delete(key);
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

  async exists(...keys: string[]): Promise<boolean> {
    const now = Date.now();
    return keys.some((key) => this.live(key, now));
  }

  budget(name: string, points: number, durationSeconds: number): Budget {
    return memoised(this.budgets, `${name}:${points}:${durationSeconds}`, () =>
      budgetOf(new RateLimiterMemory({ keyPrefix: `rate:${name}`, points, duration: durationSeconds })),
    );
  }

  async publish(channel: string, message: string): Promise<void> {
    for (const listener of this.listeners.get(channel) ?? []) listener(message);
  }

  async subscribe(channel: string, listener: Listener): Promise<void> {
    const set = this.listeners.get(channel) ?? new Set();
    set.add(listener);
    this.listeners.set(channel, set);
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

/**
 * While Redis does not answer (`lost`: the commands connection closed and is not ready again), each use degrades or
 * refuses at once instead of waiting through ioredis' reconnection attempts:
 * - one-time markers (`setOnce`, `exists`: JWT `jti` replay, revoked tokens) refuse with 503 `server.unavailable`:
 *   without them a replayed assertion or a revoked token could not be told apart, so they fail closed;
 * - budgets fall back to one in this process with the same limit (each instance then counts alone, so a client may
 *   get up to the limit times the instances), and go back to the shared one when Redis answers;
 * - `publish` is logged and dropped: the other instances lost their pub/sub connection too and drop their caches when
 *   it comes back (`onReconnect`); an instance cut off alone reads again within its caches' lifetime.
 * Markers and budgets set before the outage are Redis' to keep (persistence: see the README's faults table).
 */
export class RedisSharedState implements SharedState {
  readonly kind = 'redis' as const;
  private readonly client: Redis;
  private lost = false;
  private subscriber?: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly reconnectListeners: (() => void)[] = [];
  private readonly budgets = new Map<string, Budget>();

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly log?: Logger,
  ) {
    // Bounded retries: a Redis outage surfaces as an error to the caller instead of a hang.
    this.client = new Redis(url, { enableOfflineQueue: true, maxRetriesPerRequest: 2, lazyConnect: false });
    this.watch(this.client, 'commands');
    // Until the first 'ready', commands wait in the offline queue (start-up); after a loss they are refused at once.
    this.client.on('close', () => (this.lost = true));
    this.client.on('ready', () => (this.lost = false));
  }

  /** Whether Redis answers commands now (false from a lost connection until it is ready again). */
  get available(): boolean {
    return !this.lost;
  }

  /** A marker command: refused at once while Redis is lost, and a connection failure is a 503 too. */
  private async marker<T>(command: () => Promise<T>): Promise<T> {
    if (this.lost) throw unavailable('shared state (Redis)');
    try {
      return await command();
    } catch (err) {
      throw unavailable('shared state (Redis)', err);
    }
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
    const result = await this.marker(() =>
      this.client.set(this.prefix + key, '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX'),
    );
    return result === 'OK';
  }

  async exists(...keys: string[]): Promise<boolean> {
    return (await this.marker(() => this.client.exists(...keys.map((key) => this.prefix + key)))) > 0;
  }

  /** Its script uses commands of Redis 2.6 (`SET … EX … NX`, `INCRBY`, `PTTL`), so counters expire on any Redis. */
  budget(name: string, points: number, durationSeconds: number): Budget {
    return memoised(this.budgets, `${name}:${points}:${durationSeconds}`, () => {
      const shared = budgetOf(
        new RateLimiterRedis({
          storeClient: this.client,
          keyPrefix: `${this.prefix}rate:${name}`,
          points,
          duration: durationSeconds,
        }),
      );
      const local = budgetOf(new RateLimiterMemory({ keyPrefix: `rate:${name}`, points, duration: durationSeconds }));
      // budgetOf turns a refusal into a number: what still throws is Redis failing, answered by the local budget.
      const use = <T>(op: (budget: Budget) => Promise<T>): Promise<T> =>
        this.lost ? op(local) : op(shared).catch(() => op(local));
      return {
        spend: (key) => use((b) => b.spend(key)),
        add: (key) => use((b) => b.add(key)),
        used: (key) => use((b) => b.used(key)),
      };
    });
  }

  async publish(channel: string, message: string): Promise<void> {
    const drop = (err?: unknown) =>
      this.log?.warn(
        { channel, err: err instanceof Error ? err.message : undefined },
        'Redis unavailable: cache invalidation not published',
      );
    if (this.lost) return drop();
    await this.client.publish(this.prefix + channel, message).catch(drop);
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
