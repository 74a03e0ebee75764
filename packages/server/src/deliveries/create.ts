/** The delivery service with its queue: BullMQ on Redis when `REDIS_URL` is set, the database table otherwise. */
import type { ProjectSettingsCache } from '../admin/settings-cache.js';
import type { SecretsKey } from '../admin/secrets-key.js';
import type { Config } from '../infra/config.js';
import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import type { DeliveryQueue, RetryPolicy } from './jobs.js';
import { Deliveries } from './service.js';
import { TableDeliveryQueue } from './table-queue.js';

export interface DeliveriesDeps {
  config: Config;
  db: Database;
  log: Logger;
  settings: ProjectSettingsCache;
  secretsKey: SecretsKey;
}

export async function createDeliveries(deps: DeliveriesDeps): Promise<Deliveries> {
  const { config } = deps;
  const policy: RetryPolicy = {
    maxAttempts: config.delivery.maxAttempts,
    baseDelayMs: config.delivery.backoffMs,
    maxDelayMs: config.delivery.maxBackoffMs,
  };
  const queue: DeliveryQueue = config.redisUrl
    ? await (await import('./bullmq-queue.js')).createBullQueue(config.redisUrl, config.redisPrefix, policy, deps.log)
    : new TableDeliveryQueue(deps.db, policy, deps.log, config.delivery.pollMs);
  return new Deliveries({
    db: deps.db,
    queue,
    settings: deps.settings,
    secretsKey: deps.secretsKey,
    log: deps.log,
    fhirBase: `${config.baseUrl}/fhir/R4`,
    development: config.development,
  });
}
