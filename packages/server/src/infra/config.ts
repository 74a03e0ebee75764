/** One typed configuration object, read from the environment once and checked at start. */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import path from 'node:path';

export interface Config {
  port: number;
  baseUrl: string;
  databaseUrl?: string;
  redisUrl?: string;
  /** Key prefix for everything Hookbot writes to Redis (tests use one per run). */
  redisPrefix: string;
  dataDir: string;
  /** `background` (opt-in): the embedded database's thread yields the CPU to request handling (Linux; see infra/README). */
  pglitePriority: 'background' | 'normal';
  /** Longest a database statement may take (PGlite: may wait to start); 0 disables. */
  statementTimeoutMs: number;
  /** PostgreSQL connections per instance. */
  pgPoolSize: number;
  maxBodyBytes: number;
  /** Most entries a transaction or batch Bundle may hold (413 beyond). */
  maxBundleEntries: number;
  /** Bulk Data `$export` (`fhir/export/`). */
  export: {
    /** Jobs a project may have queued or running at once (429 beyond). */
    maxJobsPerProject: number;
    /** Resources per chunk, and so per NDJSON file. */
    chunkResources: number;
    /** How long a finished job's manifest and files are kept. */
    retentionSeconds: number;
  };
  logLevel: string;
  development: boolean;
  adminClientId?: string;
  adminClientSecret?: string;
  /** Encrypts project secrets at rest (32 bytes, base64url); without it a key is kept in the data folder. */
  secretsKey?: string;
  /** Further keys that open (never seal) project secrets, while the secrets key is being rotated. */
  secretsKeysAccepted: string[];
  /** OpenTelemetry: where spans are exported (OTLP/HTTP), if anywhere, and the service name they carry. */
  tracing?: { tracesUrl: string; serviceName: string };
  /** The bearer token Prometheus presents at `GET /metrics`; unset: no metrics are served. */
  metricsToken?: string;
  /** Seed a `demo` project with everything in `examples/` on first start. */
  seedDemo: boolean;
  /** What the demo project is seeded with. */
  examplesDir: string;
  accessTokenTtlSeconds: number;
  /** The longest a CDS Hooks client JWT may live (`exp` after `iat`, and after now); its `jti` is kept that long. */
  cdsJwtMaxLifetimeSeconds: number;
  /**
   * How long bots and project settings are served from memory before they are read again, changed or not: bounds
   * staleness when a change message is lost (changes are otherwise announced to every instance at once).
   */
  cacheTtlSeconds: number;
  /** Requests per minute per client (0 disables). */
  rateLimitPerMinute: number;
  /** Token requests per minute per address (0 disables). */
  tokenRateLimitPerMinute: number;
  /**
   * How many reverse proxies every request passes through: the client address is the one the outermost of them
   * saw (counted from the right of `X-Forwarded-For`). 0: the header is ignored and the socket address is used.
   */
  trustProxyHops: number;
  /**
   * The second listener, for mutual TLS (RFC 8705): it asks every client for a certificate without requiring one,
   * and serves the same app as the plain port. `baseUrl` is its address as clients reach it.
   */
  tls?: { port: number; cert: string; key: string; baseUrl: string };
  /** The CAs whose client certificates `tls_client_auth` accepts (`TLS_CLIENT_CA`, PEM); none: no CA is trusted. */
  clientCas: X509Certificate[];
  /**
   * Behind a TLS-terminating proxy: the header carrying the client certificate (URL-encoded PEM, as nginx's
   * `$ssl_client_escaped_cert`), believed only on connections from `proxies`.
   */
  clientCertHeader?: { name: string; proxies: BlockList };
  bot: {
    memoryMb: number;
    maxMemoryMb: number;
    timeoutMs: number;
    maxIsolates: number;
    /** A project's fair share: most isolates its bots hold, and most of its bot runs in flight at once. */
    maxIsolatesPerProject: number;
    maxRunsPerProject: number;
    /** `process`: isolates live in a supervised child process, so a fatal V8 error costs a restart of that child. */
    isolation: 'process' | 'in-process';
    /**
     * `sealed`: untrusted bots run in reused contexts locked down so that nothing of one call reaches the next;
     * `fresh`: a new context per call (about 0.9 ms more CPU per call; bots may change their own intrinsics).
     */
    contexts: 'sealed' | 'fresh';
    /** The user the bot worker processes run as (`HOOKBOT_BOT_WORKER_USER`, `uid:gid`); unset: the server's own. */
    workerUser?: { uid: number; gid: number };
  };
  /** A PAS request still `received` (its adjudication interrupted) this long is pended (pas/recover.ts). */
  pasInterruptedAfterMs: number;
  /**
   * Deliveries of PAS decisions: attempts per job, the first retry's delay (doubling up to the maximum), polling,
   * and how many PAS Subscriptions one client may hold (each is a row and a delivery per decision).
   */
  delivery: {
    maxAttempts: number;
    backoffMs: number;
    maxBackoffMs: number;
    pollMs: number;
    maxSubscriptionsPerClient: number;
  };
}

export class ConfigError extends Error {}

function workerUserFrom(env: NodeJS.ProcessEnv): { workerUser?: { uid: number; gid: number } } {
  const raw = env.HOOKBOT_BOT_WORKER_USER;
  if (raw === undefined || raw === '') return {};
  const match = /^(\d+)(?::(\d+))?$/.exec(raw);
  if (!match) throw new ConfigError(`HOOKBOT_BOT_WORKER_USER must be a numeric uid or uid:gid, got "${raw}"`);
  const uid = Number(match[1]);
  return { workerUser: { uid, gid: match[2] === undefined ? uid : Number(match[2]) } };
}

/** At least 32 characters: the token is all that guards the metrics, and a scraper can hold a long one. */
function metricsTokenFrom(env: NodeJS.ProcessEnv): { metricsToken?: string } {
  const raw = env.HOOKBOT_METRICS_TOKEN;
  if (raw === undefined || raw === '') return {};
  if (!/^[\x21-\x7e]{32,}$/.test(raw))
    throw new ConfigError('HOOKBOT_METRICS_TOKEN must be at least 32 printable characters without spaces');
  return { metricsToken: raw };
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

/** Sizes like `8mb`, `512kb` or a plain byte count. */
function bytesFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  const match = /^(\d+)\s*(b|kb|mb|gb)?$/.exec(raw);
  if (!match) throw new ConfigError(`${name} must be a size such as 8mb, got "${env[name]}"`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? 'b') as 'b' | 'kb' | 'mb' | 'gb'];
  return Number(match[1]) * unit;
}

/** One of `choices`; unset or empty is the first. */
function choiceFrom<T extends string>(env: NodeJS.ProcessEnv, name: string, choices: readonly [T, ...T[]]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return choices[0];
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(`${name} must be ${choices.map((c) => `"${c}"`).join(' or ')}, got "${raw}"`);
}

function pemFile(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[name];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name}: cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Every certificate of a PEM bundle. */
function certificatesOf(pem: string, name: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError(`${name} holds no PEM certificate`);
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    throw new ConfigError(`${name} holds a certificate that does not parse`);
  }
}

function tlsFrom(env: NodeJS.ProcessEnv, baseUrl: string): Pick<Config, 'tls' | 'clientCas'> {
  const caPem = pemFile(env, 'TLS_CLIENT_CA');
  const clientCas = caPem === undefined ? [] : certificatesOf(caPem, 'TLS_CLIENT_CA');
  if (!env.TLS_PORT) {
    if (env.TLS_CERT || env.TLS_KEY) throw new ConfigError('TLS_CERT and TLS_KEY need TLS_PORT');
    return { clientCas };
  }
  const port = intFrom(env, 'TLS_PORT', 0, 1);
  const cert = pemFile(env, 'TLS_CERT');
  const key = pemFile(env, 'TLS_KEY');
  if (!cert || !key) throw new ConfigError('TLS_PORT needs TLS_CERT and TLS_KEY (PEM files)');
  certificatesOf(cert, 'TLS_CERT');
  const url = new URL(baseUrl);
  const tlsBaseUrl = (env.TLS_BASE_URL || `https://${url.host.replace(/:\d+$/, '')}:${port}`).replace(/\/+$/, '');
  if (!URL.canParse(tlsBaseUrl)) throw new ConfigError(`TLS_BASE_URL must be an absolute URL, got "${tlsBaseUrl}"`);
  return { tls: { port, cert, key, baseUrl: tlsBaseUrl }, clientCas };
}

function clientCertHeaderFrom(env: NodeJS.ProcessEnv): Pick<Config, 'clientCertHeader'> {
  const name = env.HOOKBOT_CLIENT_CERT_HEADER?.trim().toLowerCase();
  if (!name) return {};
  if (!/^[a-z0-9-]+$/.test(name)) throw new ConfigError(`HOOKBOT_CLIENT_CERT_HEADER is not a header name: "${name}"`);
  const proxies = new BlockList();
  const entries = (env.HOOKBOT_CLIENT_CERT_PROXIES ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) {
    throw new ConfigError(
      'HOOKBOT_CLIENT_CERT_HEADER needs HOOKBOT_CLIENT_CERT_PROXIES: the addresses of your proxies',
    );
  }
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new ConfigError(`HOOKBOT_CLIENT_CERT_PROXIES: "${entry}" is not an address or CIDR range`);
    }
    proxies.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return { clientCertHeader: { name, proxies } };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = intFrom(env, 'PORT', 8103);
  const baseUrl = (env.BASE_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  try {
    new URL(baseUrl);
  } catch {
    throw new ConfigError(`BASE_URL must be an absolute URL, got "${baseUrl}"`);
  }
  const memoryMb = intFrom(env, 'HOOKBOT_BOT_MEMORY_MB', 128, 8);
  const maxMemoryMb = intFrom(env, 'HOOKBOT_BOT_MAX_MEMORY_MB', 512, 8);
  if (memoryMb > maxMemoryMb) throw new ConfigError('HOOKBOT_BOT_MEMORY_MB exceeds HOOKBOT_BOT_MAX_MEMORY_MB');
  const maxIsolates = intFrom(env, 'HOOKBOT_BOT_MAX_ISOLATES', 64, 1);
  const maxIsolatesPerProject = intFrom(
    env,
    'HOOKBOT_BOT_MAX_ISOLATES_PER_PROJECT',
    Math.max(1, Math.floor(maxIsolates / 4)),
    1,
  );
  return {
    port,
    baseUrl,
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.HOOKBOT_REDIS_PREFIX || 'hookbot:',
    dataDir: path.resolve(env.HOOKBOT_DATA_DIR || './data'),
    pglitePriority: choiceFrom(env, 'HOOKBOT_PGLITE_PRIORITY', ['normal', 'background']),
    statementTimeoutMs: intFrom(env, 'HOOKBOT_DB_STATEMENT_TIMEOUT_MS', 30_000),
    pgPoolSize: intFrom(env, 'HOOKBOT_PG_POOL_SIZE', 10, 1),
    maxBodyBytes: bytesFrom(env, 'HOOKBOT_MAX_BODY', 8 * 1024 ** 2),
    maxBundleEntries: intFrom(env, 'HOOKBOT_MAX_BUNDLE_ENTRIES', 1000, 1),
    export: {
      maxJobsPerProject: intFrom(env, 'HOOKBOT_EXPORT_MAX_JOBS_PER_PROJECT', 2, 1),
      chunkResources: intFrom(env, 'HOOKBOT_EXPORT_CHUNK', 1000, 1),
      retentionSeconds: intFrom(env, 'HOOKBOT_EXPORT_RETENTION', 86_400, 60),
    },
    logLevel: env.LOG_LEVEL || 'info',
    development: env.NODE_ENV === 'development',
    adminClientId: env.HOOKBOT_ADMIN_CLIENT_ID || undefined,
    adminClientSecret: env.HOOKBOT_ADMIN_CLIENT_SECRET || undefined,
    secretsKey: env.HOOKBOT_SECRETS_KEY || undefined,
    secretsKeysAccepted: (env.HOOKBOT_SECRETS_KEYS_ACCEPTED ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
    ...metricsTokenFrom(env),
    seedDemo: env.HOOKBOT_SEED_DEMO !== 'false',
    examplesDir: path.resolve(env.HOOKBOT_EXAMPLES_DIR || path.join(import.meta.dirname, '../../../../examples')),
    accessTokenTtlSeconds: intFrom(env, 'HOOKBOT_TOKEN_TTL', 3600, 60),
    ...tracingFrom(env),
    // At least the five minutes the CDS Hooks sandbox and Inferno sign for.
    cdsJwtMaxLifetimeSeconds: intFrom(env, 'HOOKBOT_CDS_JWT_MAX_LIFETIME', 3600, 300),
    cacheTtlSeconds: intFrom(env, 'HOOKBOT_CACHE_TTL', 60, 1),
    rateLimitPerMinute: intFrom(env, 'HOOKBOT_RATE_LIMIT', 60_000),
    tokenRateLimitPerMinute: intFrom(env, 'HOOKBOT_TOKEN_RATE_LIMIT', 1_200),
    trustProxyHops: intFrom(env, 'HOOKBOT_TRUST_PROXY_HOPS', 0),
    ...tlsFrom(env, baseUrl),
    ...clientCertHeaderFrom(env),
    bot: {
      memoryMb,
      maxMemoryMb,
      timeoutMs: intFrom(env, 'HOOKBOT_BOT_TIMEOUT_MS', 10_000, 10),
      maxIsolates,
      maxIsolatesPerProject,
      maxRunsPerProject: intFrom(env, 'HOOKBOT_BOT_MAX_RUNS_PER_PROJECT', 2 * maxIsolatesPerProject, 1),
      isolation: choiceFrom(env, 'HOOKBOT_BOT_ISOLATION', ['process', 'in-process']),
      contexts: choiceFrom(env, 'HOOKBOT_BOT_CONTEXTS', ['sealed', 'fresh']),
      ...workerUserFrom(env),
    },
    pasInterruptedAfterMs: intFrom(env, 'HOOKBOT_PAS_INTERRUPTED_AFTER_MS', 300_000, 1000),
    delivery: {
      maxAttempts: intFrom(env, 'HOOKBOT_DELIVERY_MAX_ATTEMPTS', 8, 1),
      backoffMs: intFrom(env, 'HOOKBOT_DELIVERY_BACKOFF_MS', 2000, 1),
      maxBackoffMs: intFrom(env, 'HOOKBOT_DELIVERY_MAX_BACKOFF_MS', 600_000, 1),
      pollMs: intFrom(env, 'HOOKBOT_DELIVERY_POLL_MS', 500, 10),
      maxSubscriptionsPerClient: intFrom(env, 'HOOKBOT_MAX_SUBSCRIPTIONS_PER_CLIENT', 20, 1),
    },
  };
}

/** The OpenTelemetry variables' meaning (the OTLP exporter specification): the traces URL wins over the base one. */
function tracingFrom(env: NodeJS.ProcessEnv): Pick<Config, 'tracing'> {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const tracesUrl =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!tracesUrl) return {};
  if (!URL.canParse(tracesUrl)) throw new ConfigError(`OTEL_EXPORTER_OTLP_ENDPOINT is not a URL: ${tracesUrl}`);
  return { tracing: { tracesUrl, serviceName: env.OTEL_SERVICE_NAME?.trim() || 'hookbot' } };
}
