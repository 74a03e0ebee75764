/**
 * RedisSharedState while Redis does not answer (here: a port nobody listens on): markers refuse at once with 503
 * `server.unavailable` (fail closed), budgets count in this process with the same limit, and a published
 * invalidation is dropped rather than failing its caller. `test/faults-redis.test.ts` stops a real Redis mid-traffic.
 */
import { once } from 'node:events';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookbotError } from './errors.js';
import { RedisSharedState } from './shared-state.js';

let state: RedisSharedState;

beforeAll(async () => {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  state = new RedisSharedState(`redis://127.0.0.1:${port}`, 'outage:');
  // Lost once the first connection attempt has failed.
  while (state.available) await new Promise((resolve) => setTimeout(resolve, 20));
});
afterAll(() => state.close());

describe('RedisSharedState while Redis does not answer', () => {
  it('refuses markers with 503 server.unavailable, at once', async () => {
    for (const call of [() => state.setOnce('jti:1', 60), () => state.exists('revoked:1')]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HookbotError);
      expect((err as HookbotError).errorCode).toBe('server.unavailable');
      expect((err as HookbotError).headers['Retry-After']).toBeDefined();
    }
  });

  it('counts budgets in this process, with the same limit', async () => {
    const budget = state.budget('client', 2, 60);
    expect(await budget.spend('c1')).toBeUndefined();
    expect(await budget.spend('c1')).toBeUndefined();
    expect(await budget.spend('c1')).toBeGreaterThan(0);
    expect(await budget.used('c1')).toBe(3);
  });

  it('drops a published invalidation instead of failing its caller', async () => {
    await expect(state.publish('bots', 'b1')).resolves.toBeUndefined();
  });
});
