/**
 * Starts a real Hookbot server for end-to-end tests: its own data folder, its own PostgreSQL database (when
 * `store: 'postgres'`), its own Redis key prefix (when `redis: true`), all removed by `stop()`. PostgreSQL and
 * Redis must be reachable: a missing service fails the test instead of skipping it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, startServer, type RunningServer } from '@hookbot/server';
import {
  createLogger,
  createTestPostgresDatabase,
  pgliteFromTemplate,
  RedisSharedState,
} from '@hookbot/server/testing';
import { freePort } from './port.js';

export const TEST_REDIS_URL = process.env.HOOKBOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestServerOptions {
  store?: 'pglite' | 'postgres';
  redis?: boolean;
  env?: Record<string, string>;
  /** Reuse a data folder (a restart); it is then left in place by `stop()`. */
  dataDir?: string;
  /**
   * A second instance of `peer`'s deployment: the same database, Redis prefix, base URL (as behind one load
   * balancer), admin and demo credentials, on its own port and data folder. Its `stop()` leaves the shared
   * database and keys to the peer's.
   */
  peer?: TestServer;
}

export interface Credentials {
  clientId: string;
  clientSecret: string;
}

export interface TestServer {
  url: string;
  server: RunningServer;
  dataDir: string;
  admin: Credentials;
  demo: Credentials & { projectId: string };
  /** The environment the server was configured from. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'hookbot-e2e-')));
  if (!options.dataDir && options.store !== 'postgres') await pgliteFromTemplate(dataDir);
  const peer = options.peer;
  const database = options.store === 'postgres' && !peer ? await createTestPostgresDatabase() : undefined;
  const prefix = `hookbot-test:${randomBytes(6).toString('hex')}:`;
  const port = await freePort();
  const env: Record<string, string> = peer
    ? { ...peer.env, PORT: String(port), HOOKBOT_DATA_DIR: dataDir, ...options.env }
    : {
        PORT: String(port),
        BASE_URL: `http://127.0.0.1:${port}`,
        HOOKBOT_DATA_DIR: dataDir,
        HOOKBOT_REDIS_PREFIX: prefix,
        HOOKBOT_ADMIN_CLIENT_ID: `admin-${randomBytes(4).toString('hex')}`,
        HOOKBOT_ADMIN_CLIENT_SECRET: randomBytes(24).toString('base64url'),
        // Instances sharing a database share the key of its project secrets.
        ...(database ? { DATABASE_URL: database.url, HOOKBOT_SECRETS_KEY: randomBytes(32).toString('base64url') } : {}),
        ...(options.redis ? { REDIS_URL: TEST_REDIS_URL } : {}),
        ...options.env,
      };
  if (peer && !env.DATABASE_URL) throw new Error('A second instance needs its peer on PostgreSQL');
  const config = loadConfig(env);
  const server = await startServer(config, createLogger(process.env.HOOKBOT_TEST_LOG ?? 'silent'));
  const admin: Credentials = {
    clientId: env.HOOKBOT_ADMIN_CLIENT_ID as string,
    clientSecret: env.HOOKBOT_ADMIN_CLIENT_SECRET as string,
  };
  const demo =
    peer?.demo ??
    (JSON.parse(await readFile(path.join(dataDir, 'demo-credentials.json'), 'utf8')) as TestServer['demo']);
  return {
    // The instance's own address; `config.baseUrl` is the deployment's (the peer's, for a second instance).
    url: `http://127.0.0.1:${config.port}`,
    server,
    dataDir,
    admin,
    demo,
    env,
    async stop() {
      await server.stop();
      if (options.redis && !peer) {
        const redis = new RedisSharedState(TEST_REDIS_URL, prefix);
        await redis.clearPrefix();
        await redis.close();
      }
      await database?.drop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
