/**
 * Starting and stopping a whole server: configuration → database and migrations → shared state → keys →
 * first-start set-up → bot runtime → HTTP. `startServer` is what `main.ts` and the end-to-end tests call.
 */
import { constants } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { BotRuntime, ProcessBotRuntime } from '@hookbot/runtime';
import { ensureAdminClient, ensureDemoProject } from './admin/bootstrap.js';
import { IssuerCache } from './admin/issuer-cache.js';
import { loadSecretsKey } from './admin/secrets-key.js';
import { ProjectSettingsCache } from './admin/settings-cache.js';
import { AuditWriter } from './bots/audit.js';
import { createDeliveries } from './deliveries/create.js';
import { BotCache } from './bots/bot-cache.js';
import { ExportWorker } from './fhir/export/worker.js';
import { registerBotValidator } from './bots/validate-bot.js';
import { ClientKeyCache } from './auth/client-keys.js';
import { SigningKeys } from './auth/signing-keys.js';
import { startTracing, stopTracing, tracedDatabase } from './infra/tracing.js';
import { ACCESS_TOKEN_SKEW_SECONDS } from './auth/revocation.js';
import { SESSION_SECONDS } from './member-login/browser-session.js';
import { createApp } from './app.js';
import type { Config } from './infra/config.js';
import { openDatabase } from './infra/database.js';
import { answerClientErrors } from './infra/error-middleware.js';
import { createLogger, type Logger } from './infra/logger.js';
import { Metrics } from './infra/metrics.js';
import type { Lifecycle } from './infra/readiness.js';
import { startRecovery } from './pas/recover.js';
import { RateLimits } from './infra/rate-limit.js';
import { runMigrations } from './infra/migrations/index.js';
import { createSharedState } from './infra/shared-state.js';
import type { Services } from './services.js';

export interface RunningServer {
  services: Services;
  http: Server;
  url: string;
  /** The mutual-TLS listener (`TLS_PORT`), serving the same app. */
  https?: Server;
  tlsUrl?: string;
  stop(): Promise<void>;
}

export async function createServices(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Services> {
  if (config.tracing) startTracing(config.tracing);
  const db = tracedDatabase(
    await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      background: config.pglitePriority === 'background',
      log,
      statementTimeoutMs: config.statementTimeoutMs,
      poolSize: config.pgPoolSize,
    }),
  );
  // Before anything writes a Bot (demo seeding included): a Bot's cdsService is checked on every path.
  registerBotValidator();
  try {
    const lifecycle: Lifecycle = { migrating: true };
    await runMigrations(db);
    lifecycle.migrating = false;
    const shared = createSharedState(config.redisUrl, config.redisPrefix, log);
    const cacheTtlMs = config.cacheTtlSeconds * 1000;
    // A replaced key verifies until the last token or member session it signed has expired.
    const key = await SigningKeys.load(db, {
      overlapSeconds: Math.max(config.accessTokenTtlSeconds, SESSION_SECONDS) + ACCESS_TOKEN_SKEW_SECONDS,
      shared,
    });
    const runtimeOptions = {
      maxIsolates: config.bot.maxIsolates,
      maxIsolatesPerOwner: config.bot.maxIsolatesPerProject,
      maxRunsPerOwner: config.bot.maxRunsPerProject,
      maxMemoryMb: config.bot.maxMemoryMb,
      defaultLimits: { memoryMb: config.bot.memoryMb, timeoutMs: config.bot.timeoutMs },
      contexts: config.bot.contexts,
      ...(config.bot.workerUser ? { user: config.bot.workerUser } : {}),
    };
    const runtime =
      config.bot.isolation === 'process' ? new ProcessBotRuntime(runtimeOptions) : new BotRuntime(runtimeOptions);
    const bots = new BotCache(db, shared, runtime, config.baseUrl, cacheTtlMs);
    await bots.start();
    const audit = new AuditWriter(db, log);
    const secretsKey = await loadSecretsKey({
      fromEnv: config.secretsKey,
      accepted: config.secretsKeysAccepted,
      dataDir: config.dataDir,
    });
    if (config.databaseUrl && secretsKey.source === 'data folder') {
      log.warn(
        'Project secrets are encrypted with a key from the data folder: set HOOKBOT_SECRETS_KEY when several instances share the database',
      );
    }
    const settings = new ProjectSettingsCache(db, shared, secretsKey, cacheTtlMs);
    await settings.start();
    const issuers = new IssuerCache(db, shared);
    await issuers.start();
    const deliveries = await createDeliveries({ config, db, log, settings, secretsKey });
    const exports = new ExportWorker(db, log, {
      chunkResources: config.export.chunkResources,
      retentionSeconds: config.export.retentionSeconds,
    });
    const metrics = new Metrics();
    metrics.watch({
      runtime: () => runtime.stats(),
      auditPending: () => audit.pending,
      dbPool: () => db.poolStats?.(),
      deliveryDepth: () => deliveries.depth(),
    });
    return {
      config,
      db,
      shared,
      key,
      log,
      clientKeys: new ClientKeyCache(),
      runtime,
      bots,
      audit,
      settings,
      issuers,
      secretsKey,
      deliveries,
      exports,
      metrics,
      lifecycle,
      limits: new RateLimits(
        shared,
        { perClient: config.rateLimitPerMinute, tokenPerAddress: config.tokenRateLimitPerMinute },
        // Settings this server cannot read (secrets sealed with another key) fail bot runs, not every request.
        (projectId) =>
          settings.get(projectId).then(
            (s) => s.rateLimits,
            () => ({}),
          ),
      ),
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}

export async function startServer(config: Config, log?: Logger): Promise<RunningServer> {
  const services = await createServices(config, log);
  await ensureAdminClient(services.db, config, services.log);
  if (config.seedDemo) {
    const demo = await ensureDemoProject(services);
    if (demo.seeded) services.log.info(demo.seeded, 'seeded demo project from examples/');
  }
  const app = createApp(services);
  const http = app.listen(config.port);
  answerClientErrors(http);
  await once(http, 'listening');
  const https =
    config.tls &&
    (await listenTls(config.tls, config.clientCas, app.callback()).catch(async (err: unknown) => {
      await new Promise((resolve) => http.close(resolve));
      throw err;
    }));
  services.deliveries.start();
  services.exports.start();
  const recovery = startRecovery(services, config.pasInterruptedAfterMs);
  const { port } = http.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  const stop = () =>
    (stopping ??= (async () => {
      await Promise.all([close(http), ...(https ? [close(https)] : [])]);
      await recovery.stop();
      await services.exports.close();
      await services.deliveries.close();
      await services.audit.close();
      await services.runtime.close();
      services.key.close();
      await services.shared.close();
      await services.db.close();
      await stopTracing();
    })());
  const tlsPort = https && (https.address() as AddressInfo).port;
  services.log.info({ port, ...(tlsPort ? { tlsPort } : {}) }, 'hookbot listening');
  return {
    services,
    http,
    url: `http://127.0.0.1:${port}`,
    ...(https ? { https, tlsUrl: `https://127.0.0.1:${tlsPort}` } : {}),
    stop,
  };
}

/**
 * The mutual-TLS listener: it asks every client for a certificate and lets the handshake succeed without one (a
 * client without a certificate authenticates otherwise); whether the certificate chains to `TLS_CLIENT_CA` is
 * read per request (`auth/client-certificate.ts`). Renegotiation is off, so a connection's certificate never changes.
 */
async function listenTls(
  tls: NonNullable<Config['tls']>,
  clientCas: Config['clientCas'],
  handler: ReturnType<ReturnType<typeof createApp>['callback']>,
): Promise<Server> {
  const server = createTlsServer(
    {
      cert: tls.cert,
      key: tls.key,
      requestCert: true,
      rejectUnauthorized: false,
      ...(clientCas.length ? { ca: clientCas.map((ca) => ca.toString()) } : {}),
      minVersion: 'TLSv1.2',
      secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
    },
    (req, res) => void handler(req, res),
  );
  answerClientErrors(server);
  server.listen(tls.port);
  await once(server, 'listening');
  return server;
}
