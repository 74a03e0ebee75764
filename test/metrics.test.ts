/**
 * The operator endpoints on a running server: Prometheus metrics only to the metrics token (never to an access
 * token), with the series of a CDS call just made; liveness always; readiness refused while migrations run (a fake
 * flag, as start-up sets it), while the sandbox worker is being replaced, and once the database is gone.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientView, SCRIPT_BOT, startCdsHarness, type CdsHarness } from './support/cds.js';
import { startTestServer } from './support/server.js';

const METRICS_TOKEN = randomBytes(32).toString('base64url');
let h: CdsHarness;
let service: string;

beforeAll(async () => {
  h = await startCdsHarness({ env: { HOOKBOT_METRICS_TOKEN: METRICS_TOKEN } });
  service = await h.deployService(
    { hook: 'patient-view', title: 'Metrics', description: 'Says what it is told' },
    SCRIPT_BOT,
  );
});
afterAll(async () => h?.stop());

const scrape = (authorization?: string) =>
  fetch(`${h.t.url}/metrics`, authorization ? { headers: { Authorization: authorization } } : {});

/** The value of one sample, `name{labels} value`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  it('refuses a request without the metrics token, an access token included, with a 401 OperationOutcome', async () => {
    for (const authorization of [
      undefined,
      `Bearer ${h.token}`,
      `Bearer ${h.adminToken}`,
      `Bearer ${METRICS_TOKEN}x`,
    ]) {
      const res = await scrape(authorization);
      expect(res.status).toBe(401);
      const body = (await res.json()) as { resourceType: string };
      expect(body.resourceType).toBe('OperationOutcome');
    }
  });

  it('serves the request, hook, bot-run and state series after a CDS call, with sane values', async () => {
    expect((await h.invoke(service, patientView({ extension: { respond: { cards: [] } } }))).status).toBe(200);
    expect((await h.invoke(service, patientView({ extension: { respond: {} } }))).status).toBe(500);
    const res = await scrape(`Bearer ${METRICS_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const route = 'method="POST",route="/cds-services/:id"';
    expect(sample(text, `hookbot_http_request_duration_seconds_count{${route},status="200"}`)).toBe(1);
    expect(sample(text, `hookbot_http_request_duration_seconds_count{${route},status="500"}`)).toBe(1);
    // The pattern, never the path: the service id is no label of the request series.
    expect(text).not.toContain(`route="/cds-services/${service}"`);
    const hook = `service="${service}",hook="patient-view"`;
    expect(sample(text, `hookbot_cds_hook_duration_seconds_count{${hook}}`)).toBe(2);
    const seconds = sample(text, `hookbot_cds_hook_duration_seconds_sum{${hook}}`) as number;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(60);
    expect(sample(text, 'hookbot_bot_runs_total{outcome="success",subtype="cds-hooks"}')).toBe(1);
    expect(sample(text, 'hookbot_bot_runs_total{outcome="invalid-response",subtype="cds-hooks"}')).toBe(1);
    expect(sample(text, 'hookbot_sandbox_healthy')).toBe(1);
    expect(sample(text, 'hookbot_sandbox_worker_processes')).toBe(1);
    expect(sample(text, 'hookbot_audit_backlog_events')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'hookbot_pas_delivery_queue_depth')).toBe(0);
    expect(sample(text, 'hookbot_process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});

describe('GET /metrics on PostgreSQL and Redis', () => {
  it('adds the connection pool and reads the delivery queue in Redis', async () => {
    const t = await startTestServer({ store: 'postgres', redis: true, env: { HOOKBOT_METRICS_TOKEN: METRICS_TOKEN } });
    try {
      const res = await fetch(`${t.url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
      const text = await res.text();
      expect(sample(text, 'hookbot_db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'hookbot_db_pool_connections{state="waiting"}')).toBe(0);
      expect(t.server.services.deliveries.queueKind).toBe('bullmq');
      expect(sample(text, 'hookbot_pas_delivery_queue_depth')).toBe(0);
    } finally {
      await t.stop();
    }
  });
});

describe('GET /livez and GET /readyz', () => {
  const probe = async (path: string) => {
    const res = await fetch(`${h.t.url}${path}`);
    return { status: res.status, body: (await res.json()) as unknown };
  };

  it('are live and ready, saying no more than that', async () => {
    expect(await probe('/livez')).toEqual({ status: 200, body: { ok: true } });
    expect(await probe('/readyz')).toEqual({ status: 200, body: { ok: true } });
  });

  it('is not ready while migrations run, and ready again after', async () => {
    const { lifecycle } = h.t.server.services;
    lifecycle.migrating = true;
    try {
      expect(await probe('/readyz')).toEqual({ status: 503, body: { ok: false } });
      expect((await probe('/livez')).status).toBe(200);
    } finally {
      lifecycle.migrating = false;
    }
    expect((await probe('/readyz')).status).toBe(200);
  });

  it('is not ready once the database is closed, while still live', async () => {
    const { services } = h.t.server;
    const close = services.db.close.bind(services.db);
    await close();
    // stop() closes it again: once is enough.
    services.db.close = () => Promise.resolve();
    expect(await probe('/readyz')).toEqual({ status: 503, body: { ok: false } });
    expect((await probe('/livez')).status).toBe(200);
    expect((await fetch(`${h.t.url}/healthcheck`)).status).toBe(503);
  });
});
