import { expect, it } from 'vitest';
import { InvalidatedCache } from './invalidated-cache.js';
import { MemorySharedState } from './shared-state.js';

const counter = () => {
  let loads = 0;
  return {
    load: async () => ++loads,
    get loads() {
      return loads;
    },
  };
};

/** A clock the test moves. */
const clock = () => {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

/** In-process pub/sub whose connection the test can "lose": messages published meanwhile are not delivered. */
class FlakySharedState extends MemorySharedState {
  private down = false;
  private readonly reconnectListeners: (() => void)[] = [];
  override async publish(channel: string, message: string): Promise<void> {
    if (!this.down) await super.publish(channel, message);
  }
  override onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }
  disconnect(): void {
    this.down = true;
  }
  reconnect(): void {
    this.down = false;
    for (const listener of this.reconnectListeners) listener();
  }
}

const HOUR = 3_600_000;

it('shares one load between readers until the key changes, on every instance', async () => {
  const shared = new MemorySharedState();
  const dropped: string[] = [];
  const a = new InvalidatedCache<number>(shared, 'changed', { ttlMs: HOUR });
  const b = new InvalidatedCache<number>(shared, 'changed', { ttlMs: HOUR, onDrop: (key) => dropped.push(key) });
  await a.start();
  await b.start();
  const c = counter();
  expect(await Promise.all([b.get('k', c.load), b.get('k', c.load)])).toEqual([1, 1]);
  expect(c.loads).toBe(1);
  await a.changed('k');
  expect(dropped).toEqual(['k']);
  expect(await b.get('k', c.load)).toBe(2);
});

it('forgets a failed load', async () => {
  const cache = new InvalidatedCache<number>(new MemorySharedState(), 'changed', { ttlMs: HOUR });
  await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  expect(await cache.get('k', async () => 7)).toBe(7);
});

it('reloads an entry older than ttlMs, and serves it until then', async () => {
  const time = clock();
  const cache = new InvalidatedCache<number>(new MemorySharedState(), 'changed', { ttlMs: 60_000, now: time.now });
  const c = counter();
  expect(await cache.get('a', c.load)).toBe(1);
  time.advance(59_999);
  expect(await cache.get('a', c.load)).toBe(1);
  time.advance(1);
  expect(await cache.get('a', c.load)).toBe(2);
});

it('keeps at most maxEntries, dropping the oldest', async () => {
  const cache = new InvalidatedCache<number>(new MemorySharedState(), 'changed', { ttlMs: HOUR, maxEntries: 2 });
  const c = counter();
  await cache.get('a', c.load);
  await cache.get('b', c.load);
  await cache.get('c', c.load);
  expect(await cache.get('b', c.load)).toBe(2);
  expect(await cache.get('a', c.load)).toBe(4);
});

it('reloading an expired key does not evict another, live entry', async () => {
  const time = clock();
  const cache = new InvalidatedCache<number>(new MemorySharedState(), 'changed', {
    ttlMs: 200,
    maxEntries: 3,
    now: time.now,
  });
  const c = counter();
  await cache.get('a', c.load);
  await cache.get('b', c.load);
  time.advance(250);
  expect(await cache.get('a', c.load)).toBe(3); // expired: reloaded, live again
  await cache.get('c', c.load); // 4; the cache is full: a (live), b (expired), c
  expect(await cache.get('b', c.load)).toBe(5); // expired: reloaded
  expect(await cache.get('a', c.load)).toBe(3); // still cached
});

it('drops everything when pub/sub reconnects, so a change announced while it was down is not missed', async () => {
  const shared = new FlakySharedState();
  const a = new InvalidatedCache<string>(shared, 'changed', { ttlMs: HOUR });
  const b = new InvalidatedCache<string>(shared, 'changed', { ttlMs: HOUR });
  await a.start();
  await b.start();
  let stored = 'old';
  const load = async () => stored;
  expect(await b.get('k', load)).toBe('old');
  expect(await b.get('other', load)).toBe('old');
  shared.disconnect();
  stored = 'new';
  await a.changed('k'); // lost
  expect(await b.get('k', load)).toBe('old');
  shared.reconnect();
  expect(await b.get('k', load)).toBe('new');
  expect(await b.get('other', load)).toBe('new');
});
