/**
 * Lost connections to Redis and PostgreSQL are logged (message and code, never the URL and its password), and a
 * pub/sub connection that comes back makes the caches read everything again, since messages published while it was
 * down were never delivered.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pg from 'pg';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { createTestPostgresDatabase } from '../testing/stores.js';
import { openPostgres } from './database.js';
import { InvalidatedCache } from './invalidated-cache.js';
import type { Logger } from './logger.js';
import { RedisSharedState } from './shared-state.js';

const REDIS_URL = process.env.HOOKBOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A real logger whose lines the test reads. */
function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('logs Redis connection errors once per message, without the password', async () => {
  const { log, lines } = capturingLogger();
  // Nothing listens on port 1: every retry fails with the same error.
  const state = new RedisSharedState('redis://:s3cret-pass@127.0.0.1:1', 'unused:', log);
  cleanups.push(() => state.close());
  await until(() => lines.some((l) => l.msg === 'Redis connection error'), 'the error to be logged');
  await new Promise((resolve) => setTimeout(resolve, 500)); // a few retries
  const errors = lines.filter((l) => l.msg === 'Redis connection error');
  expect(errors).toHaveLength(1);
  expect(JSON.stringify(errors[0])).toMatch(/ECONNREFUSED/);
  expect(JSON.stringify(lines)).not.toContain('s3cret-pass');
});

it('drops cached entries when the pub/sub connection comes back, and logs it', async () => {
  const prefix = `hookbot-test:${randomBytes(6).toString('hex')}:`;
  const { log, lines } = capturingLogger();
  const a = new RedisSharedState(REDIS_URL, prefix);
  const b = new RedisSharedState(REDIS_URL, prefix, log);
  cleanups.push(
    () => a.close(),
    () => b.close(),
  );
  const cacheA = new InvalidatedCache<string>(a, 'changed', { ttlMs: 3_600_000 });
  const cacheB = new InvalidatedCache<string>(b, 'changed', { ttlMs: 3_600_000 });
  // Only B subscribes: A publishes, and B's pub/sub connection is the one named after the prefix.
  await cacheB.start();
  let stored = 'old';
  const load = async () => stored;
  expect(await cacheB.get('k', load)).toBe('old');

  // Pub/sub works: a change on A reaches B.
  stored = 'v2';
  await cacheA.changed('k');
  await until(async () => (await cacheB.get('k', load)) === 'v2', 'the change to reach B');

  // A change whose message B never receives (as while its connection is down), then B's connection drops.
  stored = 'v3';
  expect(await cacheB.get('k', load)).toBe('v2');
  const admin = new Redis(REDIS_URL);
  cleanups.push(() => admin.quit());
  const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
  const ours = list.split('\n').filter((line) => line.includes(` name=hookbot-pubsub-${prefix} `));
  expect(ours).toHaveLength(1);
  await admin.call('CLIENT', 'KILL', 'ID', /^id=(\d+)/.exec(ours[0] as string)?.[1] as string);

  await until(async () => (await cacheB.get('k', load)) === 'v3', 'B to reload after reconnecting');
  expect(lines.some((l) => l.msg === 'Redis connection restored' && l.redis === 'pub/sub')).toBe(true);
  // And pub/sub still works after the reconnect.
  stored = 'v4';
  await cacheA.changed('k');
  await until(async () => (await cacheB.get('k', load)) === 'v4', 'the next change to reach B');
});

it('logs a PostgreSQL idle connection that is terminated, without the connection string', async () => {
  const database = await createTestPostgresDatabase();
  cleanups.push(() => database.drop());
  const { log, lines } = capturingLogger();
  const url = new URL(database.url);
  url.password = 'pg-s3cret';
  // Trust authentication ignores the password; it is there to prove it is not logged.
  const db = await openPostgres(url.href, { log });
  cleanups.push(() => db.close());
  const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const killer = new pg.Client({ connectionString: database.url });
  await killer.connect();
  cleanups.push(() => killer.end());
  await killer.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
  await until(() => lines.some((l) => l.msg === 'PostgreSQL idle connection error'), 'the error to be logged');
  expect(JSON.stringify(lines)).not.toContain('pg-s3cret');
  expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
});
