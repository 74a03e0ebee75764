#!/usr/bin/env node
import { ConfigError, loadConfig } from './infra/config.js';
import { createLogger } from './infra/logger.js';
import { startServer } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`hookbot: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const server = await startServer(config, log);
  process.stdout.write(
    `Hookbot is listening on ${config.baseUrl}${config.tls ? ` and ${config.tls.baseUrl} (mutual TLS)` : ''} (store: ${server.services.db.kind}, shared state: ${server.services.shared.kind})\n`,
  );
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`hookbot: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
