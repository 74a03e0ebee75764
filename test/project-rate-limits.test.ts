/**
 * A project's own rate limits (its settings' `rateLimits`, on Redis): per client on the token endpoint and on every
 * authenticated route (here CDS discovery), 429 with `Retry-After` beyond them (OAuth JSON at the token endpoint, an
 * OperationOutcome elsewhere), a fresh budget once `Retry-After` has passed, and other projects untouched.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, getToken, request, type JsonResponse } from './support/http.js';
import { startTestServer, type Credentials, type TestServer } from './support/server.js';

let t: TestServer;
let admin: string;
let projectId: string;
let client: Credentials;

const WINDOW = 3;

beforeAll(async () => {
  t = await startTestServer({ redis: true });
  admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
  const created = await request<{ project: { id: string }; client: Credentials }>(`${t.url}/admin/projects`, {
    method: 'POST',
    token: admin,
    json: { name: 'limited payer' },
  });
  projectId = created.body.project.id;
  client = created.body.client;
});
afterAll(async () => t?.stop());

const setLimits = (rateLimits: unknown) =>
  request(`${t.url}/admin/projects/${projectId}/settings`, { method: 'PUT', token: admin, json: { rateLimits } });

const tokenRequest = () =>
  request<{ access_token: string }>(
    `${t.url}/oauth2/token`,
    form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
  );

/** Waits out a 429's `Retry-After`. */
async function waitOut(res: JsonResponse): Promise<void> {
  const seconds = Number(res.headers.get('retry-after'));
  expect(seconds).toBeGreaterThan(0);
  expect(seconds).toBeLessThanOrEqual(WINDOW);
  await sleep(seconds * 1000);
}

describe("a project's own rate limits", () => {
  it('are checked and bounded', async () => {
    for (const bad of [{ perClient: 0 }, { perClient: 1e9 }, { tokenPerClient: 1.5 }, { burst: 3 }, [1]]) {
      const res = await setLimits(bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body).toMatchObject({ issue: [{ expression: [expect.stringMatching(/^rateLimits/)] }] });
    }
    const ok = await setLimits({ perClient: 3, tokenPerClient: 2, windowSeconds: WINDOW });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ rateLimits: { perClient: 3, tokenPerClient: 2, windowSeconds: WINDOW } });
  });

  it('limit token requests per client: 429 with Retry-After (OAuth JSON), then a fresh budget', async () => {
    expect((await tokenRequest()).status).toBe(200);
    expect((await tokenRequest()).status).toBe(200);
    const throttled = await tokenRequest();
    expect(throttled.status).toBe(429);
    expect(throttled.body).toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringMatching(/2 token requests per 3 seconds/),
    });
    // Another project's client has its own (the server's) budget.
    expect(
      (
        await request(
          `${t.url}/oauth2/token`,
          form({ grant_type: 'client_credentials', client_id: t.demo.clientId, client_secret: t.demo.clientSecret }),
        )
      ).status,
    ).toBe(200);
    await waitOut(throttled);
    expect((await tokenRequest()).status).toBe(200);
  });

  it('limit a client on a CDS route: 429 with Retry-After (OperationOutcome), then a fresh budget', async () => {
    // The token budget has room for this one: one token was requested since it was renewed.
    const token = (await tokenRequest()).body.access_token;
    const discover = () => request(`${t.url}/cds-services`, { token });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await discover()).status);
    const throttled = await discover();
    expect([...statuses, throttled.status]).toEqual([200, 200, 200, 429]);
    expect(throttled.body).toMatchObject({
      resourceType: 'OperationOutcome',
      id: 'too-many-requests',
      issue: [{ code: 'throttled', diagnostics: 'Rate limit of 3 requests per 3 seconds exceeded' }],
    });
    const demo = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    expect((await request(`${t.url}/cds-services`, { token: demo })).status).toBe(200);
    await waitOut(throttled);
    expect((await discover()).status).toBe(200);
  });
});
