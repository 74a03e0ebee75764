import type { RuntimeStats } from '@hookbot/runtime';
import { describe, expect, it } from 'vitest';
import { Metrics, presentsToken, type MetricSources } from './metrics.js';

const STATS: RuntimeStats = {
  isolates: 3,
  inFlight: 1,
  healthy: true,
  runs: 9,
  disposed: { timeout: 2, memory: 1, evicted: 0, retired: 0, crashed: 0 },
  contexts: { created: 1, reused: 8 },
  restarts: 1,
  restarting: false,
  pids: [42],
};

function sources(overrides: Partial<MetricSources> = {}): MetricSources {
  return {
    runtime: () => STATS,
    auditPending: () => 5,
    dbPool: () => ({ total: 4, idle: 3, waiting: 0 }),
    deliveryDepth: () => Promise.resolve(7),
    ...overrides,
  };
}

/** The value of one sample line, `name{labels} value`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Metrics', () => {
  it('keeps request, hook and bot-run series under their bounded labels', async () => {
    const metrics = new Metrics();
    metrics.watch(sources());
    metrics.observeRequest('POST', '/cds-services/:id', 200, 0.012);
    metrics.observeRequest('POST', '/cds-services/:id', 200, 0.02);
    metrics.observeHook('coverage', 'order-sign', 0.011);
    metrics.countBotRun('success', 'cds-hooks');
    metrics.countBotRun('timeout', 'cds-hooks');
    const text = await metrics.text();
    expect(
      sample(text, 'hookbot_http_request_duration_seconds_count{method="POST",route="/cds-services/:id",status="200"}'),
    ).toBe(2);
    expect(sample(text, 'hookbot_cds_hook_duration_seconds_count{service="coverage",hook="order-sign"}')).toBe(1);
    expect(sample(text, 'hookbot_bot_runs_total{outcome="timeout",subtype="cds-hooks"}')).toBe(1);
  });

  it('reads the sandbox, audit backlog, pool and delivery queue when scraped', async () => {
    const metrics = new Metrics();
    metrics.watch(sources());
    const text = await metrics.text();
    expect(sample(text, 'hookbot_sandbox_isolates')).toBe(3);
    expect(sample(text, 'hookbot_sandbox_worker_restarts')).toBe(1);
    expect(sample(text, 'hookbot_sandbox_isolates_disposed{reason="timeout"}')).toBe(2);
    expect(sample(text, 'hookbot_audit_backlog_events')).toBe(5);
    expect(sample(text, 'hookbot_db_pool_connections{state="idle"}')).toBe(3);
    expect(sample(text, 'hookbot_pas_delivery_queue_depth')).toBe(7);
    expect(sample(text, 'hookbot_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('leaves out or marks NaN what cannot be read instead of failing the scrape', async () => {
    const metrics = new Metrics();
    metrics.watch(sources({ dbPool: () => undefined, deliveryDepth: () => Promise.reject(new Error('down')) }));
    const text = await metrics.text();
    expect(text).not.toContain('hookbot_db_pool_connections{');
    expect(sample(text, 'hookbot_pas_delivery_queue_depth')).toBeNaN();
    expect(sample(text, 'hookbot_audit_backlog_events')).toBe(5);
  });
});

describe('presentsToken', () => {
  const token = 'm'.repeat(40);
  it('accepts the bearer token and nothing else', () => {
    expect(presentsToken(`Bearer ${token}`, token)).toBe(true);
    expect(presentsToken(`bearer ${token}`, token)).toBe(true);
    expect(presentsToken(undefined, token)).toBe(false);
    expect(presentsToken(token, token)).toBe(false);
    expect(presentsToken(`Bearer ${token}x`, token)).toBe(false);
    expect(presentsToken(`Bearer ${token.slice(1)}`, token)).toBe(false);
    expect(presentsToken(`Bearer ${'n'.repeat(40)}`, token)).toBe(false);
    expect(presentsToken(`Basic ${token}`, token)).toBe(false);
  });
});
