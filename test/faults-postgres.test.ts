/**
 * PostgreSQL restarted mid-traffic, on a cluster this test starts itself: requests during the outage answer 503
 * OperationOutcomes (`server.unavailable`, never 500 and never a crash), `/readyz` answers 503 until the database is
 * back, the server reconnects on its own, and no transaction Bundle is partly written: each is stored whole or not
 * at all, and each answered 200 is stored whole.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_ENTRIES, sendTransactions, storedOf, type Sent } from './support/faults.js';
import { getToken, request } from './support/http.js';
import { startOwnPostgres, until, type OwnPostgres } from './support/own-services.js';
import { startTestServer, type TestServer } from './support/server.js';

let postgres: OwnPostgres;
let t: TestServer;
let token: string;

beforeAll(async () => {
  postgres = await startOwnPostgres();
  t = await startTestServer({
    env: { DATABASE_URL: postgres.url, HOOKBOT_SECRETS_KEY: randomBytes(32).toString('base64url') },
  });
  token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
}, 120_000);

afterAll(async () => {
  await postgres?.start().catch(() => undefined);
  await t?.stop();
  await postgres?.close();
});

describe('PostgreSQL restarted mid-traffic', () => {
  it('answers 503 meanwhile, reconnects, and writes each transaction Bundle whole or not at all', async () => {
    const fhir = `${t.url}/fhir/R4`;
    const sent: Sent[] = [];
    let running = true;
    const traffic = [1, 2].map(() => sendTransactions(fhir, token, () => running, sent));
    await until(async () => sent.filter((s) => s.status === 200).length >= 3, 'Bundles stored before the restart');

    await postgres.stop();
    await until(async () => sent.some((s) => s.status === 503), 'a Bundle refused during the outage');
    const ready = await request(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    const read = await request(`${fhir}/Patient`, { token });
    expect(read.status).toBe(503);
    expect(read.body.resourceType).toBe('OperationOutcome');
    expect(read.headers.get('retry-after')).toBeTruthy();
    expect(JSON.stringify(read.body)).toContain('server.unavailable');
    expect((await request(`${t.url}/livez`)).status).toBe(200);

    await postgres.start();
    await until(async () => (await request(`${t.url}/readyz`)).status === 200, 'readiness after the restart');
    const resumed = sent.length;
    await until(async () => sent.slice(resumed).some((s) => s.status === 200), 'a Bundle stored after the restart');
    running = false;
    await Promise.all(traffic);

    // Every answer was a success or a 503: no 500, no dropped connection.
    expect(new Set(sent.map((s) => s.status))).toEqual(new Set([200, 503]));
    for (const { batch, status } of sent) {
      const stored = await storedOf(fhir, token, batch);
      expect(stored, `Bundle ${batch} answered ${status}`).toBe(status === 200 ? BUNDLE_ENTRIES : 0);
    }
  });
});
