/**
 * An instance killed with SIGKILL mid-request (a server in a process of its own, on PostgreSQL, sending transaction
 * Bundles and running a bot): after an instance starts again on the same database, no Bundle is half written (each
 * is stored whole or not at all; each answered 200 is whole), and the AuditEvents lost are at most those waiting in
 * the audit backlog when the process died (`hookbot_audit_backlog_events`, written every 50 ms; see the README).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestPostgresDatabase } from '@hookbot/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_ENTRIES, sendTransactions, storedOf, type Sent } from './support/faults.js';
import { getToken, request } from './support/http.js';
import { until } from './support/own-services.js';
import { freePort } from './support/port.js';
import { startTestServer, type TestServer } from './support/server.js';

const ROOT = path.join(import.meta.dirname, '..');
const METRICS_TOKEN = randomBytes(32).toString('hex');

let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
let dataDir: string;
let env: Record<string, string>;
let child: ChildProcess | undefined;
let restarted: TestServer | undefined;

beforeAll(async () => {
  database = await createTestPostgresDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'hookbot-kill-'));
  const port = await freePort();
  env = {
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    HOOKBOT_DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    HOOKBOT_SECRETS_KEY: randomBytes(32).toString('base64url'),
    HOOKBOT_ADMIN_CLIENT_ID: 'admin-kill',
    HOOKBOT_ADMIN_CLIENT_SECRET: randomBytes(24).toString('base64url'),
    HOOKBOT_METRICS_TOKEN: METRICS_TOKEN,
    LOG_LEVEL: 'warn',
  };
  // The server's own entry point, from the sources, as `npm start` runs the built one.
  child = spawn(
    process.execPath,
    ['--no-node-snapshot', '--conditions=hookbot-source', '--import', 'tsx', 'packages/server/src/main.ts'],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' },
  );
  await until(async () => (await request(`${env.BASE_URL}/readyz`)).status === 200, 'the server to start', 60_000);
}, 90_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  await restarted?.stop();
  await database?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

/** The audit backlog the instance reports. */
async function auditBacklog(url: string): Promise<number> {
  const res = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
  const line = (await res.text()).split('\n').find((l) => l.startsWith('hookbot_audit_backlog_events'));
  return Number(line?.split(' ')[1]);
}

describe('an instance killed with SIGKILL mid-request', () => {
  it('leaves no Bundle half written, and loses at most the audit backlog it held', { timeout: 90_000 }, async () => {
    const url = env.BASE_URL as string;
    const fhir = `${url}/fhir/R4`;
    const demo = JSON.parse(await readFile(path.join(dataDir, 'demo-credentials.json'), 'utf8')) as {
      clientId: string;
      clientSecret: string;
    };
    const token = await getToken(url, demo.clientId, demo.clientSecret);
    const bot = await request<{ id: string }>(`${fhir}/Bot`, {
      method: 'POST',
      token,
      json: { resourceType: 'Bot', name: 'audited' },
    });
    expect(bot.status).toBe(201);
    const deployed = await request(`${fhir}/Bot/${bot.body.id}/$deploy`, {
      method: 'POST',
      token,
      json: { code: 'exports.handler = async () => ({ ok: true });' },
    });
    expect(deployed.status).toBe(200);

    const sent: Sent[] = [];
    let killed = false;
    const traffic = [1, 2].map(() => sendTransactions(fhir, token, () => !killed, sent));
    await until(async () => sent.filter((s) => s.status === 200).length >= 3, 'Bundles stored before the kill');
    let executed = 0;
    for (let i = 0; i < 40; i += 1) {
      const res = await request(`${fhir}/Bot/${bot.body.id}/$execute`, { method: 'POST', token, json: {} });
      expect(res.status).toBe(200);
      executed += 1;
    }
    // Read the backlog, then kill at once: it can only shrink in between (no bot call runs meanwhile).
    const backlog = await auditBacklog(url);
    const exited = once(child as ChildProcess, 'exit');
    child?.kill('SIGKILL');
    killed = true;
    await exited;
    await Promise.all(traffic);
    // A Bundle was in flight when the process died.
    expect(sent.some((s) => s.status === undefined)).toBe(true);

    restarted = await startTestServer({ dataDir, env });
    const again = await getToken(restarted.url, demo.clientId, demo.clientSecret);
    const fhirAgain = `${restarted.url}/fhir/R4`;
    for (const { batch, status } of sent) {
      const stored = await storedOf(fhirAgain, again, batch);
      if (status === 200) expect(stored, `Bundle ${batch} answered 200`).toBe(BUNDLE_ENTRIES);
      else expect([0, BUNDLE_ENTRIES], `Bundle ${batch} answered ${status}`).toContain(stored);
    }
    const audited = await request<{ total: number }>(
      `${fhirAgain}/AuditEvent?entity=Bot/${bot.body.id}&_total=accurate&_count=0`,
      { token: again },
    );
    const lost = executed - audited.body.total;
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost, `${lost} AuditEvents lost, ${backlog} in the backlog at the kill`).toBeLessThanOrEqual(backlog);
  });
});
