/**
 * Rate limits per client on every authenticated route (CDS Hooks and admin included, on Redis), the token
 * endpoint's budget per address (X-Forwarded-For believed only behind the proxies the operator counts), and
 * CORS open only where browser EHR apps call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, getToken, request, type JsonResponse } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

let direct: TestServer;
let proxied: TestServer;

beforeAll(async () => {
  [direct, proxied] = await Promise.all([
    startTestServer({ redis: true, env: { HOOKBOT_RATE_LIMIT: '5', HOOKBOT_TOKEN_RATE_LIMIT: '6' } }),
    startTestServer({ env: { HOOKBOT_TOKEN_RATE_LIMIT: '2', HOOKBOT_TRUST_PROXY_HOPS: '1' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([direct?.stop(), proxied?.stop()]);
});

/** Calls until the first 429 (at most `max` calls); the calls made and the last answer. */
async function untilThrottled(call: () => Promise<JsonResponse>, max: number): Promise<[number, JsonResponse]> {
  let last: JsonResponse | undefined;
  let calls = 0;
  while (calls < max && last?.status !== 429) {
    last = await call();
    calls++;
  }
  return [calls, last as JsonResponse];
}

const badTokenRequest = (server: TestServer, forwardedFor?: string) =>
  request(
    `${server.url}/oauth2/token`,
    form(
      { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' },
      forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {},
    ),
  );

describe('rate limits', () => {
  it('count CDS Hooks and admin calls against the client, 429 with Retry-After beyond the budget', async () => {
    const demo = await getToken(direct.url, direct.demo.clientId, direct.demo.clientSecret);
    const [cdsCalls, cds] = await untilThrottled(() => request(`${direct.url}/cds-services`, { token: demo }), 10);
    expect([cdsCalls, cds.status]).toEqual([6, 429]);
    expect(Number(cds.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(cds.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'throttled' }] });
    // The budget is the client's, whatever route it spends it on.
    expect((await request(`${direct.url}/fhir/R4/Patient`, { token: demo })).status).toBe(429);

    const admin = await getToken(direct.url, direct.admin.clientId, direct.admin.clientSecret);
    const [adminCalls, last] = await untilThrottled(
      () => request(`${direct.url}/admin/projects`, { token: admin }),
      10,
    );
    expect([adminCalls, last.status]).toEqual([6, 429]);
  });

  it('ignore X-Forwarded-For unless proxies are trusted: a client cannot pick a fresh token budget', async () => {
    // Two token requests were spent above; four remain for this address.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await badTokenRequest(direct, `203.0.113.${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    const last = await badTokenRequest(direct, '198.51.100.1');
    expect(last.body).toMatchObject({ error: 'invalid_request' });
    expect(last.headers.get('retry-after')).toBeTruthy();
  });

  it('behind a trusted proxy, count each client address that proxy saw, not what the client claims', async () => {
    const [calls, last] = await untilThrottled(() => badTokenRequest(proxied, '203.0.113.7'), 5);
    expect([calls, last.status]).toEqual([3, 429]);
    // Another address behind the same proxy has its own budget.
    expect((await badTokenRequest(proxied, '203.0.113.8')).status).toBe(401);
    // A client that writes its own X-Forwarded-For entry is still counted by the address the proxy appended.
    expect((await badTokenRequest(proxied, '198.51.100.1, 203.0.113.7')).status).toBe(429);
  });
});

describe('CORS', () => {
  const preflight = (path: string) =>
    fetch(`${direct.url}${path}`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://ehr-app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });

  it('lets browser EHR apps call CDS Hooks and FHIR, never the admin API or the token endpoint', async () => {
    for (const path of ['/admin/projects', '/oauth2/token', '/auth/me', '/cds-feedback/stats']) {
      const res = await preflight(path);
      expect(res.headers.get('access-control-allow-origin'), path).toBeNull();
      expect(res.headers.get('access-control-allow-methods'), path).toBeNull();
    }
    for (const path of ['/cds-services/some-service', '/fhir/R4/Patient', '/.well-known/smart-configuration']) {
      expect((await preflight(path)).headers.get('access-control-allow-origin'), path).toBe('https://ehr-app.example');
    }
    const plain = await fetch(`${direct.url}/admin/projects`, { headers: { Origin: 'https://evil.example' } });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });
});
