/** The long-lived parts of a running server, created once in `main.ts` (or by tests) and handed to the app. */
import type { SandboxRuntime } from '@hookbot/runtime';
import type { IssuerCache } from './admin/issuer-cache.js';
import type { ProjectSettingsCache } from './admin/settings-cache.js';
import type { SecretsKey } from './admin/secrets-key.js';
import type { AuditWriter } from './bots/audit.js';
import type { BotCache } from './bots/bot-cache.js';
import type { ClientKeyCache } from './auth/client-keys.js';
import type { SigningKeys } from './auth/signing-keys.js';
import type { Deliveries } from './deliveries/service.js';
import type { ExportWorker } from './fhir/export/worker.js';
import type { Config } from './infra/config.js';
import type { Database } from './infra/database.js';
import type { Logger } from './infra/logger.js';
import type { Metrics } from './infra/metrics.js';
import type { Lifecycle } from './infra/readiness.js';
import type { RateLimits } from './infra/rate-limit.js';
import type { SharedState } from './infra/shared-state.js';

export interface Services {
  config: Config;
  db: Database;
  shared: SharedState;
  key: SigningKeys;
  log: Logger;
  clientKeys: ClientKeyCache;
  /** In a supervised child process by default; in process with `HOOKBOT_BOT_ISOLATION=in-process`. */
  runtime: SandboxRuntime;
  bots: BotCache;
  audit: AuditWriter;
  settings: ProjectSettingsCache;
  /** Clients by JWT issuer, for CDS Hooks client JWTs. */
  issuers: IssuerCache;
  limits: RateLimits;
  /** Seals what must not be stored in clear (project secrets, partner callback credentials). */
  secretsKey: SecretsKey;
  /** Durable deliveries of PAS decisions (Subscriptions, partner callbacks). */
  deliveries: Deliveries;
  /** Runs Bulk Data export jobs in the background, a chunk at a time. */
  exports: ExportWorker;
  /** Prometheus metrics of this instance (`GET /metrics`). */
  metrics: Metrics;
  /** Start-up and maintenance states that make the instance not ready (`GET /readyz`). */
  lifecycle: Lifecycle;
}
