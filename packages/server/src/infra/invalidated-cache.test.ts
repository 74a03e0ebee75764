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

it('shares one load between readers until the key changes, on every instance', async () => {
  const shared = new MemorySharedState();
  const dropped: string[] = [];
  const a = new InvalidatedCache<number>(shared, 'changed');
  const b = new InvalidatedCache<number>(shared, 'changed', { onDrop: (key) => dropped.push(key) });
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
  const cache = new InvalidatedCache<number>(new MemorySharedState(), 'changed');
  await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  expect(await cache.get('k', async () => 7)).toBe(7);
});

it('expires entries after ttlMs and keeps at most maxEntries, dropping the oldest', async () => {
  const cache = new InvalidatedCache<number>(new MemorySharedState(), 'changed', { ttlMs: 20, maxEntries: 2 });
  const c = counter();
  await cache.get('a', c.load);
  await cache.get('b', c.load);
  await cache.get('c', c.load);
  expect(await cache.get('b', c.load)).toBe(2);
  expect(await cache.get('a', c.load)).toBe(4);
  await new Promise((resolve) => setTimeout(resolve, 30));
  expect(await cache.get('a', c.load)).toBe(5);
});

it('reloading an expired key does not evict another, live entry', async () => {
  const cache = new InvalidatedCache<number>(new MemorySharedState(), 'changed', { ttlMs: 200, maxEntries: 3 });
  const c = counter();
  await cache.get('a', c.load);
  await cache.get('b', c.load);
  await new Promise((resolve) => setTimeout(resolve, 250));
  expect(await cache.get('a', c.load)).toBe(3); // expired: reloaded, live again
  await cache.get('c', c.load); // 4; the cache is full: a (live), b (expired), c
  expect(await cache.get('b', c.load)).toBe(5); // expired: reloaded
  expect(await cache.get('a', c.load)).toBe(3); // still cached
});
