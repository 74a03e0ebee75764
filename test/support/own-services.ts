/**
 * A Redis server and a PostgreSQL cluster of a test's own, on free ports in temporary folders, for fault tests
 * that stop and restart them: the machine's shared services are never touched. `close()` stops the process and
 * removes the folder; call it in `afterAll` (it is safe after a failed start).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort } from './port.js';

const run = promisify(execFile);

/** Polls `check` until it resolves true (every 50 ms, up to `timeoutMs`). */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface OwnRedis {
  url: string;
  /** Stops the server (SIGTERM: it writes its append-only file first, as a stopped Redis service does). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data (nothing when it runs). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A redis-server with append-only persistence (as docker-compose.yml runs it), so markers and jobs survive. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hookbot-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const ping = async () => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  };
  const start = async () => {
    // Already running: a second server would fail to bind and leave this one without its handle.
    if (child && child.exitCode === null) return;
    child = spawn(
      process.env.HOOKBOT_TEST_REDIS_SERVER ?? '/usr/bin/redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
      { stdio: 'ignore' },
    );
    await until(ping, 'redis-server to answer');
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGTERM');
    await exited;
  };
  try {
    await start();
  } catch (err) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface OwnPostgres {
  /** The `postgres` database, as superuser (trust authentication on loopback). */
  url: string;
  /** `pg_ctl stop -m fast`: clients are disconnected, as on a restart. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const PG_BIN = process.env.HOOKBOT_TEST_PG_BIN ?? '/usr/local/bin';

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user. */
async function pgCommand(command: string, args: string[]): Promise<void> {
  const file = path.join(PG_BIN, command);
  if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', file, ...args]);
  else await run(file, args);
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hookbot-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let running = false;
  const answers = async () => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const start = async () => {
    if (running) return;
    await pgCommand('pg_ctl', [
      'start',
      '-D',
      data,
      '-s',
      '-l',
      path.join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    ]);
    running = true;
    await until(answers, 'PostgreSQL to accept connections');
  };
  const stop = async () => {
    if (!running) return;
    running = false;
    await pgCommand('pg_ctl', ['stop', '-D', data, '-s', '-m', 'fast']);
  };
  try {
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await pgCommand('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    await start();
  } catch (err) {
    await stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    stop,
    start,
    async close() {
      await stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
