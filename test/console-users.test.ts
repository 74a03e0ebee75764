/**
 * Console users (issue 24, item 1): password sign-in to a session cookie, CSRF, rate limits, invitations, and what
 * each role may do through the API with that cookie, on PGlite and PostgreSQL.
 */
import { readFile } from 'node:fs/promises';
import type { AuditEvent, Bot, Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import { cookieOf, demoUser, inviteUser, signIn, withSession } from './support/console-session.js';
import { startTestServer, type TestServer } from './support/server.js';

describe.each(['pglite', 'postgres'] as const)('console users on %s', (store) => {
  let t: TestServer;
  let adminToken: string;
  beforeAll(async () => {
    t = await startTestServer({ store });
    adminToken = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    // A first start seeds the demo project, its users' passwords hashed (scrypt): slow on a busy machine.
  }, 120_000);
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

  it('asks the CSRF token of a GET that starts work with the cookie: $export, $execute', async () => {
    const admin = await inviteUser(t, adminToken, `exporter-${store}@example.com`, 'administrator');
    const session = await signIn(t, admin.email, admin.password);
    const analyst = await signIn(t, demoUser(t, 'analyst').email, demoUser(t, 'analyst').password);
    const kickoff = { Prefer: 'respond-async', Accept: 'application/fhir+json' };
    for (const [who, path] of [
      [session, '$export?_type=Patient'],
      [session, 'Patient/$export'],
      [analyst, 'Bot/some-bot/$execute'],
    ] as const) {
      const res = await request(`${t.url}/fhir/R4/${path}`, { headers: { Cookie: who.cookie, ...kickoff } });
      expect(res.status).toBe(403);
      expect(JSON.stringify(res.body)).toContain('auth.csrf-required');
    }
    // With the token (as the console sends it), or a bearer token, the export starts.
    const started = await withSession(session, `${t.url}/fhir/R4/$export?_type=Patient`, { headers: kickoff });
    expect(started.status).toBe(202);
    // Reads need none, the export's status included.
    const status = started.headers.get('content-location') as string;
    expect((await request(status, { headers: { Cookie: session.cookie } })).status).not.toBe(403);
  });

  const ruleSet = async (id: string, title: string) => ({
    ...(JSON.parse(await readFile('examples/rules/crd-prior-auth.json', 'utf8')) as Record<string, unknown>),
    id,
    title,
  });
  const fhir = () => `${t.url}/fhir/R4`;

  it('lets an analyst deploy, test and roll back a rule set, recording who in meta and an AuditEvent', async () => {
    const analyst = await signIn(t, demoUser(t, 'analyst').email, demoUser(t, 'analyst').password);
    const first = await withSession<{ bot: Bot; version: string }>(analyst, `${fhir()}/Bot/$deploy-rules`, {
      method: 'POST',
      json: { ruleSet: await ruleSet('analyst-pa', 'Analyst PA') },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const author = first.body.bot.meta?.extension?.find((e) => e.url.endsWith('/author'))?.valueReference;
    expect(author).toMatchObject({ type: 'Practitioner', display: analyst.user.email });
    const second = await withSession<{ bot: Bot; version: string }>(analyst, `${fhir()}/Bot/$deploy-rules`, {
      method: 'POST',
      json: { ruleSet: await ruleSet('analyst-pa', 'Analyst PA v2') },
    });
    expect(second.status).toBe(200);
    // The example's test cases name request files, which only the CLI reads: tested here without them.
    const tested = await withSession(analyst, `${fhir()}/Bot/$test-rules`, {
      method: 'POST',
      json: { ruleSet: { ...(await ruleSet('analyst-pa', 'Analyst PA v2')), tests: [] } },
    });
    expect(tested.status, JSON.stringify(tested.body)).toBe(200);
    const botId = first.body.bot.id as string;
    const rolledBack = await withSession<Bot>(analyst, `${fhir()}/Bot/${botId}/$rollback`, {
      method: 'POST',
      json: { version: first.body.version },
    });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.body.name).toBe('Analyst PA');
    // A token's write names nobody: the author is dropped, not kept from the version before.
    const byToken = await request<Bot>(`${fhir()}/Bot/${botId}`, {
      method: 'PUT',
      token: adminToken,
      json: { ...rolledBack.body, meta: undefined },
    });
    expect(byToken.status).toBe(200);
    expect(byToken.body.meta?.extension ?? []).toEqual([]);
    // Who deployed and rolled back, read back from the audit trail.
    await t.server.services.audit.flush(true);
    const events = await request<Bundle<AuditEvent>>(`${fhir()}/AuditEvent?entity=Bot/${botId}&_count=50`, {
      token: adminToken,
    });
    const changes = (events.body.entry ?? [])
      .map((e) => e.resource as AuditEvent)
      .filter((e) => e.action === 'U')
      .map((e) => [e.subtype?.[0]?.code, e.agent[0]?.who?.display]);
    expect(changes).toEqual(
      expect.arrayContaining([
        ['deploy-rules', analyst.user.email],
        ['rollback', analyst.user.email],
      ]),
    );
  });

  it('refuses an analyst coded bots (deploy, create, execute, roll back), clients and other projects', async () => {
    const analyst = await signIn(t, demoUser(t, 'analyst').email, demoUser(t, 'analyst').password);
    const coded = await request<Bot>(`${fhir()}/Bot`, {
      method: 'POST',
      token: adminToken,
      json: { resourceType: 'Bot', name: 'coded' },
    });
    const deployed = await request(`${fhir()}/Bot/${coded.body.id}/$deploy`, {
      method: 'POST',
      token: adminToken,
      json: { code: 'exports.handler = async () => ({ ok: true });' },
    });
    expect(deployed.status).toBe(200);
    const refusals = [
      ['POST', `/Bot/${coded.body.id}/$deploy`, { code: 'exports.handler = async () => 1;' }],
      ['POST', '/Bot', { resourceType: 'Bot', name: 'mine' }],
      ['PUT', `/Bot/${coded.body.id}`, { resourceType: 'Bot', id: coded.body.id, name: 'renamed' }],
      ['POST', `/Bot/${coded.body.id}/$execute`, {}],
      ['POST', `/Bot/${coded.body.id}/$rollback`, { version: '1' }],
      ['DELETE', `/Bot/${coded.body.id}`, undefined],
      ['POST', '', { resourceType: 'Bundle', type: 'batch', entry: [] }],
    ] as const;
    for (const [method, path, json] of refusals) {
      const res = await withSession(analyst, `${fhir()}${path}`, { method, ...(json ? { json } : {}) });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body).toMatchObject({ resourceType: 'OperationOutcome' });
    }
    // A rule set deployed over a coded Bot's identifier leaves the code alone.
    await request(`${fhir()}/Bot/${coded.body.id}`, {
      method: 'PUT',
      token: adminToken,
      json: {
        ...(await request<Bot>(`${fhir()}/Bot/${coded.body.id}`, { token: adminToken })).body,
        identifier: [{ system: 'https://hookbot.dev/fhir/rule-set', value: 'coded-id' }],
      },
    });
    const over = await withSession(analyst, `${fhir()}/Bot/$deploy-rules`, {
      method: 'POST',
      json: { ruleSet: await ruleSet('coded-id', 'Over code') },
    });
    expect(over.status).toBe(403);
    // Clients and settings are the super-admin's and administrators'.
    for (const [method, path] of [
      ['POST', `/admin/projects/${t.demo.projectId}/clients`],
      ['POST', `/admin/projects/${t.demo.projectId}/invitations`],
      ['GET', `/admin/projects/${t.demo.projectId}/users`],
    ] as const) {
      const json = method === 'POST' ? { json: { name: 'x', email: 'x@example.com', role: 'viewer' } } : {};
      const res = await withSession(analyst, `${t.url}${path}`, { method, ...json });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    // Another project's Bot is not found, whatever its id.
    const superAdmin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const other = await request<{ client: { clientId: string; clientSecret: string } }>(`${t.url}/admin/projects`, {
      method: 'POST',
      token: superAdmin,
      json: { name: `other-${store}` },
    });
    const otherToken = await getToken(t.url, other.body.client.clientId, other.body.client.clientSecret);
    const otherBot = await request<Bot>(`${fhir()}/Bot`, {
      method: 'POST',
      token: otherToken,
      json: { resourceType: 'Bot', name: 'theirs' },
    });
    expect((await withSession(analyst, `${fhir()}/Bot/${otherBot.body.id}`)).status).toBe(404);
    const search = await withSession<Bundle>(analyst, `${fhir()}/Bot?name=theirs`);
    expect(search.body.entry ?? []).toEqual([]);
  });

  it('lets a viewer read, and refuses every write, deploy and test run', async () => {
    const viewer = await signIn(t, demoUser(t, 'viewer').email, demoUser(t, 'viewer').password);
    expect((await withSession(viewer, `${fhir()}/Bot`)).status).toBe(200);
    expect((await withSession(viewer, `${t.url}/cds-feedback/stats`)).status).toBe(200);
    for (const [method, path, json] of [
      ['POST', '/Bot/$deploy-rules', { ruleSet: await ruleSet('viewer-pa', 'Viewer PA') }],
      ['POST', '/Bot/$test-rules', { ruleSet: await ruleSet('viewer-pa', 'Viewer PA') }],
      ['POST', '/Patient', { resourceType: 'Patient' }],
    ] as const) {
      const res = await withSession(viewer, `${fhir()}${path}`, { method, json });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body).toMatchObject({ resourceType: 'OperationOutcome' });
    }
  });

  it('accepts an invitation once, refuses an expired one, and a removed user’s session dies', async () => {
    const invite = (email: string, token = adminToken) =>
      request<{ invitationId: string; token: string; url: string; expiresAt: string }>(
        `${t.url}/admin/projects/${t.demo.projectId}/invitations`,
        { method: 'POST', token, json: { email, role: 'analyst', name: 'Ann Alyst' } },
      );
    const invited = await invite(`ann-${store}@example.com`);
    expect(invited.status).toBe(201);
    expect(invited.body.url).toContain(invited.body.token);
    const accept = (token: string, password = 'a long enough password') =>
      request<{ id: string; email: string; role: string }>(`${t.url}/auth/invitations/accept`, {
        method: 'POST',
        json: { token, password },
      });
    expect((await accept(invited.body.token, 'too short')).status).toBe(400);
    const accepted = await accept(invited.body.token);
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ email: `ann-${store}@example.com`, role: 'analyst' });
    expect((await accept(invited.body.token)).status).toBe(400);

    const late = await invite(`late-${store}@example.com`);
    await t.server.services.db.query(
      `UPDATE user_invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`,
      [late.body.invitationId],
    );
    const expired = await accept(late.body.token);
    expect(expired.status).toBe(400);
    expect(expired.body).toMatchObject({ resourceType: 'OperationOutcome' });

    const session = await signIn(t, `ann-${store}@example.com`, 'a long enough password');
    const users = await request<{ users: Record<string, unknown>[] }>(
      `${t.url}/admin/projects/${t.demo.projectId}/users`,
      { token: adminToken },
    );
    expect(users.body.users.map((u) => u.email)).toContain(`ann-${store}@example.com`);
    expect(JSON.stringify(users.body)).not.toMatch(/scrypt|password/i);
    const removed = await request(`${t.url}/admin/projects/${t.demo.projectId}/users/${session.user.id}`, {
      method: 'DELETE',
      token: adminToken,
    });
    expect(removed.status).toBe(204);
    expect((await withSession(session, `${t.url}/auth/session`)).status).toBe(401);
    expect((await withSession(session, `${fhir()}/Bot`)).status).toBe(401);
  });

  it('lets an administrator user invite (with the CSRF token) and manage its own project only', async () => {
    const admin = await inviteUser(t, adminToken, `boss-${store}@example.com`, 'administrator');
    const session = await signIn(t, admin.email, admin.password);
    const invited = await withSession(session, `${t.url}/admin/projects/${t.demo.projectId}/invitations`, {
      method: 'POST',
      json: { email: `dev-${store}@example.com`, role: 'bot-developer' },
    });
    expect(invited.status).toBe(201);
    const noCsrf = await request(`${t.url}/admin/projects/${t.demo.projectId}/invitations`, {
      method: 'POST',
      headers: { Cookie: session.cookie },
      json: { email: `dev2-${store}@example.com`, role: 'viewer' },
    });
    expect(noCsrf.status).toBe(403);
    const other = await request<{ project: { id: string } }>(`${t.url}/admin/projects`, {
      method: 'POST',
      token: await getToken(t.url, t.admin.clientId, t.admin.clientSecret),
      json: { name: `boss-other-${store}` },
    });
    expect((await withSession(session, `${t.url}/admin/projects/${other.body.project.id}/users`)).status).toBe(403);
    const elsewhere = await withSession(session, `${t.url}/admin/projects/${other.body.project.id}/invitations`, {
      method: 'POST',
      json: { email: `spy-${store}@example.com`, role: 'administrator' },
    });
    expect(elsewhere.status).toBe(403);
  });

  it('rate-limits failed sign-ins per email: 429 after eight, even with the right password', async () => {
    const user = await inviteUser(t, adminToken, `guessed-${store}@example.com`, 'viewer');
    for (let i = 0; i < 8; i++) {
      const res = await request(`${t.url}/auth/session`, {
        method: 'POST',
        json: { email: user.email, password: `wrong guess ${i}` },
      });
      expect(res.status).toBe(401);
    }
    const blocked = await request(`${t.url}/auth/session`, {
      method: 'POST',
      json: { email: user.email, password: user.password },
    });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('900');
    expect(blocked.body).toMatchObject({ resourceType: 'OperationOutcome' });
    // Nine password checks (scrypt) and the waits the failures beyond the fifth cost: longer than the default.
  }, 120_000);

  it('bounds the password checks of concurrent sign-ins per email: guesses sent at once are counted too', async () => {
    const email = `racer-${store}@example.com`;
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        request(`${t.url}/auth/session`, { method: 'POST', json: { email, password: `concurrent guess ${i}` } }),
      ),
    );
    const checked = answers.filter((r) => r.status === 401).length;
    expect(answers.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    expect(checked).toBeLessThanOrEqual(16);
  }, 120_000);
});
