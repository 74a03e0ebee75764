/**
 * Console users (issue 24, item 1): password sign-in to a session cookie, CSRF, rate limits, invitations, and what
 * each role may do through the API with that cookie, on PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import { cookieOf, demoUser, signIn } from './support/console-session.js';
import { startTestServer, type TestServer } from './support/server.js';

describe.each(['pglite', 'postgres'] as const)('console users on %s', (store) => {
  let t: TestServer;
  let adminToken: string;
  beforeAll(async () => {
    t = await startTestServer({ store });
    adminToken = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  });
  afterAll(async () => t?.stop());

  it('signs in with a session cookie (HttpOnly, SameSite=Strict, Path=/), reads and ends the session', async () => {
    const analyst = demoUser(t, 'analyst');
    const res = await request<{ user: Record<string, unknown>; csrfToken: string }>(`${t.url}/auth/session`, {
      method: 'POST',
      json: { email: analyst.email.toUpperCase(), password: analyst.password },
    });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({
      email: analyst.email,
      role: 'analyst',
      projectId: t.demo.projectId,
      projectName: 'demo',
    });
    expect(res.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('hookbot_session=')) as string;
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).toMatch(/; Path=\//);
    // The test server's base URL is http: no Secure, which a browser would refuse over plain HTTP.
    expect(setCookie).not.toMatch(/Secure/);
    const cookie = cookieOf(res, 'hookbot_session') as string;

    const current = await request<{ user: { email: string }; csrfToken: string }>(`${t.url}/auth/session`, {
      headers: { Cookie: cookie },
    });
    expect(current.status).toBe(200);
    expect(current.body.user.email).toBe(analyst.email);
    expect(current.body.csrfToken).toBe(res.body.csrfToken);

    // Signing out needs the CSRF token too.
    expect((await request(`${t.url}/auth/session`, { method: 'DELETE', headers: { Cookie: cookie } })).status).toBe(
      403,
    );
    const out = await request(`${t.url}/auth/session`, {
      method: 'DELETE',
      headers: { Cookie: cookie, 'X-CSRF-Token': res.body.csrfToken },
    });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().find((c) => c.startsWith('hookbot_session='))).toMatch(/Max-Age=0/);
    // Revoked on the server: the old cookie is refused, here and on the API.
    expect((await request(`${t.url}/auth/session`, { headers: { Cookie: cookie } })).status).toBe(401);
    const bots = await request(`${t.url}/fhir/R4/Bot`, { headers: { Cookie: cookie } });
    expect(bots.status).toBe(401);
    expect(bots.body).toMatchObject({ resourceType: 'OperationOutcome' });
  });

  it('answers a wrong password and an unknown email alike (401 OperationOutcome)', async () => {
    const analyst = demoUser(t, 'analyst');
    const wrong = await request(`${t.url}/auth/session`, {
      method: 'POST',
      json: { email: analyst.email, password: 'not the password at all' },
    });
    const unknown = await request(`${t.url}/auth/session`, {
      method: 'POST',
      json: { email: 'nobody@demo.hookbot.local', password: 'not the password at all' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const text = (r: typeof wrong) => JSON.stringify((r.body as { issue: unknown[] }).issue);
    expect(text(wrong)).toBe(text(unknown));
    expect(wrong.headers.getSetCookie()).toEqual([]);
  });

  it('refuses a write with the cookie but without the CSRF token, and a bearer token works as before', async () => {
    const session = await signIn(t, demoUser(t, 'analyst').email, demoUser(t, 'analyst').password);
    const rules = { ruleSet: { id: 'x' } };
    const noCsrf = await request(`${t.url}/fhir/R4/Bot/$test-rules`, {
      method: 'POST',
      headers: { Cookie: session.cookie },
      json: rules,
    });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body).toMatchObject({ resourceType: 'OperationOutcome' });
    const wrongCsrf = await request(`${t.url}/fhir/R4/Bot/$test-rules`, {
      method: 'POST',
      headers: { Cookie: session.cookie, 'X-CSRF-Token': 'x'.repeat(43) },
      json: rules,
    });
    expect(wrongCsrf.status).toBe(403);
    // Reads need no CSRF token.
    expect((await request(`${t.url}/fhir/R4/Bot`, { headers: { Cookie: session.cookie } })).status).toBe(200);
    expect((await request(`${t.url}/fhir/R4/Bot`, { token: adminToken })).status).toBe(200);
  });
});
