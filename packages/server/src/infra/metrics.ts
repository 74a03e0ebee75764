/**
 * Prometheus metrics (prom-client), one registry per server so that instances started in one process (the tests)
 * never mix their figures. Requests, hook calls and bot runs are counted as they happen, with bounded labels (the
 * route pattern, never the path; the CDS service id, which only names deployed services); the state of the
 * sandbox, the audit backlog, the database pool and the delivery queue is read when Prometheus scrapes.
 */
import { timingSafeEqual } from 'node:crypto';
import type { RuntimeStats } from '@hookbot/runtime';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds: CDS calls aim at tens of milliseconds, a bot may run up to its timeout. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** What is read at scrape time; set once the services exist (`Metrics.watch`). */
export interface MetricSources {
  runtime: () => RuntimeStats;
  auditPending: () => number;
  dbPool: () => PoolStats | undefined;
  deliveryDepth: () => Promise<number>;
}

/**
 * The process' own figures (CPU, memory, event loop, GC), collected once per process: they describe the process, not
 * a server in it, and each collection keeps an event-loop monitor and a GC observer running for good.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'hookbot_' });
  }
  return processRegistry;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly http = new Histogram({
    name: 'hookbot_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly hooks = new Histogram({
    name: 'hookbot_cds_hook_duration_seconds',
    help: 'CDS Hooks calls by service, from the request read to the checked answer',
    labelNames: ['service', 'hook'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly bots = new Counter({
    name: 'hookbot_bot_runs_total',
    help: 'Bot runs by outcome (success, invalid-response, or the failure kind: thrown, timeout, memory, ...)',
    labelNames: ['outcome', 'subtype'] as const,
    registers: [this.registry],
  });
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.http.observe({ method, route, status }, seconds);
  }

  observeHook(service: string, hook: string, seconds: number): void {
    this.hooks.observe({ service, hook }, seconds);
  }

  countBotRun(outcome: string, subtype: string): void {
    this.bots.inc({ outcome, subtype });
  }

  /** Registers the gauges read at scrape time. */
  watch(sources: MetricSources): void {
    const gauge = (
      name: string,
      help: string,
      collect: (g: Gauge) => void | Promise<void>,
      labelNames: string[] = [],
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect(this: Gauge) {
          return collect(this);
        },
      });
    const runtime = sources.runtime;
    gauge('hookbot_sandbox_isolates', 'Bot isolates held', (g) => g.set(runtime().isolates));
    gauge('hookbot_sandbox_runs_in_flight', 'Bot runs in flight', (g) => g.set(runtime().inFlight));
    gauge('hookbot_sandbox_healthy', '1 while the sandbox can run bots', (g) => g.set(runtime().healthy ? 1 : 0));
    gauge('hookbot_sandbox_worker_processes', 'Sandbox worker processes serving', (g) => g.set(runtime().pids.length));
    gauge('hookbot_sandbox_worker_restarts', 'Sandbox worker processes replaced since start', (g) =>
      g.set(runtime().restarts),
    );
    gauge(
      'hookbot_sandbox_isolates_disposed',
      'Isolates disposed since start, by reason',
      (g) => {
        for (const [reason, n] of Object.entries(runtime().disposed)) g.set({ reason }, n);
      },
      ['reason'],
    );
    gauge('hookbot_audit_backlog_events', 'Audit events queued and not yet written', (g) =>
      g.set(sources.auditPending()),
    );
    gauge(
      'hookbot_db_pool_connections',
      'PostgreSQL pool connections by state (absent on the embedded database)',
      (g) => {
        const pool = sources.dbPool();
        if (!pool) return;
        g.set({ state: 'total' }, pool.total);
        g.set({ state: 'idle' }, pool.idle);
        g.set({ state: 'waiting' }, pool.waiting);
      },
      ['state'],
    );
    gauge('hookbot_pas_delivery_queue_depth', 'PAS deliveries not yet delivered nor given up', async (g) => {
      // A queue that cannot be read (Redis down) is NaN rather than a failed scrape or a stale figure.
      await sources.deliveryDepth().then(
        (n) => g.set(n),
        () => g.set(Number.NaN),
      );
    });
  }

  async text(): Promise<string> {
    const [own, shared] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return own + shared;
  }
}

/** `Authorization: Bearer <token>` equal to `expected`, compared in constant time. */
export function presentsToken(authorization: string | undefined, expected: string): boolean {
  const match = /^Bearer (\S+)$/i.exec(authorization ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1] as string);
  const wanted = Buffer.from(expected);
  // Lengths differ: compare with itself anyway, so the time taken does not depend on how much matched.
  return timingSafeEqual(given, given.length === wanted.length ? wanted : given) && given.length === wanted.length;
}
