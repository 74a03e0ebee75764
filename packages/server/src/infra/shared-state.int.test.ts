/**
 * Rate-limit budgets on a real Redis (`HOOKBOT_TEST_REDIS_URL`, default redis://127.0.0.1:6379). The server must
 * work on Redis 6, which lacks `EXPIRE … NX|XX|GT|LT` (Redis 7): the client is made to answer such a command as
 * Redis 6 does, and the budget's keys must still expire.
 */
import { randomBytes } from 'node:crypto';
import { Command, Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { RedisSharedState } from './shared-state.js';

const REDIS_URL = process.env.HOOKBOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `hookbot-test:${randomBytes(6).toString('hex')}:`;
const state = new RedisSharedState(REDIS_URL, prefix);
const probe = new Redis(REDIS_URL);

afterEach(() => vi.restoreAllMocks());
afterAll(async () => {
  await state.clearPrefix();
  await state.close();
  await probe.quit();
});

/** Redis 6 answers `EXPIRE key seconds NX` with a wrong-arity error: send what provokes exactly that. */
function actAsRedis6(): void {
  const send = Redis.prototype.sendCommand;
  vi.spyOn(Redis.prototype, 'sendCommand').mockImplementation(function (this: Redis, command, stream) {
    const { name, args } = command as Command;
    const replacement =
      name.toLowerCase() === 'expire' && args.length > 2 ? new Command('expire', [args[0] as string]) : undefined;
    if (replacement) void replacement.promise.then(command.resolve, command.reject);
    return send.call(this, replacement ?? command, stream);
  });
}

describe('RedisSharedState budgets', () => {
  it('give every counter an expiry on a Redis without EXPIRE NX, and refuse beyond the budget', async () => {
    actAsRedis6();
    const budget = state.budget('client', 2, 60);
    expect(await budget.spend('c1')).toBeUndefined();
    expect(await budget.spend('c1')).toBeUndefined();
    const retryAfter = await budget.spend('c1');
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const keys = await probe.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const ttl = await probe.ttl(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(60);
    }
  });
});
