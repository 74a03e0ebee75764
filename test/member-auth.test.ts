/**
 * Member access through a SMART standalone launch (issue 21): app registration, the authorization endpoint and
 * every refusal it owes, the member's pages (CSRF, matching the five facts, one account per member and per email,
 * password guessing), and the token endpoint's member grants (PKCE, single-use codes, rotating refresh tokens).
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, getToken, request } from './support/http.js';
import {
  authorizeParams,
  authorizeUrl,
  Browser,
  createMember,
  exchangeCode,
  hiddenFields,
  newFacts,
  pkce,
  REDIRECT_URI,
  registerMemberApp,
  signUpAndApprove,
  signUpFields,
  superAdminToken,
  type MemberFacts,
} from './support/member-launch.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
let app: { clientId: string; clientSecret?: string };
let confidential: { clientId: string; clientSecret?: string };
let fhirBase: string;

beforeAll(async () => {
  t = await startTestServer();
  fhirBase = `${t.server.services.config.baseUrl}/fhir/R4`;
  app = await registerMemberApp(t, { public: true });
  confidential = await registerMemberApp(t, { name: 'Confidential member app' });
});
afterAll(async () => t?.stop());

let emails = 0;
const email = () => `member${++emails}@example.com`;

/** A new member signed up through `clientId`'s request: the code, its verifier and the signed-in browser. */
async function codeFor(clientId: string, options: { scope?: string; nonce?: string } = {}) {
  const facts = newFacts();
  const patient = await createMember(t, facts);
  const { verifier, challenge } = pkce();
  const browser = new Browser();
  const code = await signUpAndApprove(t, browser, { clientId, challenge, ...options }, facts, email());
  return { code, verifier, browser, patient, facts };
}

const refresh = (fields: Record<string, string>) =>
  request<Record<string, string>>(`${t.url}/oauth2/token`, form({ grant_type: 'refresh_token', ...fields }));

describe('registration', () => {
  const register = async (json: Record<string, unknown>) =>
    request<Record<string, unknown>>(`${t.url}/admin/projects/${t.demo.projectId}/clients`, {
      method: 'POST',
      token: await superAdminToken(t),
      json,
    });

  it('registers member apps, public without a secret, confidential with one', async () => {
    const pub = await register({ name: 'p', redirectUris: [REDIRECT_URI], public: true });
    expect(pub.status).toBe(201);
    expect(pub.body).toMatchObject({ role: 'member-app', public: true, redirectUris: [REDIRECT_URI] });
    expect(pub.body.clientSecret).toBeUndefined();
    const conf = await register({ name: 'c', redirectUris: [REDIRECT_URI] });
    expect(conf.body).toMatchObject({ role: 'member-app', public: false });
    expect(typeof conf.body.clientSecret).toBe('string');
  });

  it('refuses http, loopback and fragment redirect URIs outside development mode, and system scopes', async () => {
    for (const json of [
      { name: 'x', redirectUris: ['http://app.example/cb'] },
      { name: 'x', redirectUris: ['https://localhost/cb'] },
      { name: 'x', redirectUris: ['https://127.0.0.1:8080/cb'] },
      { name: 'x', redirectUris: ['https://app.example/cb#frag'] },
      { name: 'x', redirectUris: ['/cb'] },
      { name: 'x', redirectUris: [] },
      { name: 'x', role: 'member-app' },
      { name: 'x', redirectUris: [REDIRECT_URI], scope: 'system/*.read' },
      { name: 'x', role: 'admin', redirectUris: [REDIRECT_URI] },
    ]) {
      const refused = await register(json);
      expect(refused.status, JSON.stringify(json)).toBe(400);
      expect(refused.body.resourceType).toBe('OperationOutcome');
    }
  });

  it('gives a member app no token of its own', async () => {
    const res = await request(
      `${t.url}/oauth2/token`,
      form({
        grant_type: 'client_credentials',
        client_id: confidential.clientId,
        client_secret: confidential.clientSecret as string,
      }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
  });
});

describe('GET /oauth2/authorize', () => {
  const url = (overrides: Record<string, string | undefined>) => {
    const params = { ...authorizeParams(t, { clientId: app.clientId }), ...overrides };
    return `${t.url}/oauth2/authorize?${new URLSearchParams(
      Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined),
    )}`;
  };
  const get = (u: string) => fetch(u, { redirect: 'manual' });

  it('shows an error page and never redirects for an unknown client or an unregistered redirect URI', async () => {
    for (const bad of [
      { client_id: 'no-such-app' },
      { client_id: undefined },
      { client_id: t.demo.clientId }, // a client that is not a member app
      { redirect_uri: 'https://evil.example/callback' },
      { redirect_uri: `${REDIRECT_URI}/more` },
      { redirect_uri: `${REDIRECT_URI}?x=1` },
      { redirect_uri: undefined },
    ]) {
      const res = await get(url(bad));
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).not.toContain('evil.example');
    }
  });

  it.each([
    ['plain PKCE', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['no PKCE', { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
    ['a malformed challenge', { code_challenge: 'short' }, 'invalid_request'],
    ['another aud', { aud: 'https://other.example/fhir' }, 'invalid_request'],
    ['no aud', { aud: undefined }, 'invalid_request'],
    ['response_type token', { response_type: 'token' }, 'unsupported_response_type'],
    ['a system scope', { scope: 'system/*.read openid' }, 'invalid_scope'],
    ['an unknown scope', { scope: 'patient/*.read admin' }, 'invalid_scope'],
  ])('redirects %s back to the app with error and state', async (_name, overrides, error) => {
    const res = await get(url(overrides));
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') as string);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('shows the sign-in page, framed by no one, with a CSRF cookie', async () => {
    const res = await get(url({}));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('hookbot_csrf='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Secure/); // not in development mode
    expect(await res.text()).toContain('<label for="email">');
  });

  it('lets the demo project’s member app start a launch on its loopback redirect URI', async () => {
    const demo = JSON.parse(await readFile(path.join(t.dataDir, 'demo-credentials.json'), 'utf8')) as {
      memberAppClientId: string;
      memberAppRedirectUri: string;
    };
    const res = await get(url({ client_id: demo.memberAppClientId, redirect_uri: demo.memberAppRedirectUri }));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<label for="email">');
  });

  it('takes the same request as a form (authorize-post)', async () => {
    const res = await fetch(`${t.url}/oauth2/authorize`, {
      ...form(authorizeParams(t, { clientId: app.clientId })),
      redirect: 'manual',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Sign in');
  });
});

describe('the member pages', () => {
  async function signUpPage(browser: Browser) {
    const page = await browser.get(
      `${t.url}/oauth2/authorize/sign-up?${new URLSearchParams(authorizeParams(t, { clientId: app.clientId }))}`,
    );
    expect(page.status).toBe(200);
    return hiddenFields(page.html);
  }

  it('refuses a form without its CSRF token, or with another browser’s', async () => {
    const browser = new Browser();
    const hidden = await signUpPage(browser);
    const facts = newFacts();
    await createMember(t, facts);
    const { csrf: _csrf, ...withoutCsrf } = hidden;
    const missing = await browser.post(`${t.url}/oauth2/authorize/sign-up`, {
      ...withoutCsrf,
      ...signUpFields(facts, email()),
    });
    expect(missing.status).toBe(403);
    const other = await new Browser().post(`${t.url}/oauth2/authorize/sign-up`, {
      ...hidden,
      ...signUpFields(facts, email()),
    });
    expect(other.status).toBe(403);
    const consent = await browser.post(`${t.url}/oauth2/authorize/consent`, { ...withoutCsrf, decision: 'approve' });
    expect(consent.status).toBe(403);
    expect(consent.location).toBeUndefined();
  });

  it('says a sign-up with one wrong fact does not match, the same way whichever fact, or an unknown member', async () => {
    const facts = newFacts();
    await createMember(t, facts);
    const wrong: Partial<MemberFacts>[] = [
      { firstName: 'Sherie' },
      { lastName: 'Fahey393' },
      { birthDate: '2011-01-05' },
      { memberId: 'no-such-member' },
      { postalCode: '01810' },
    ];
    const messages = new Set<string>();
    for (const change of wrong) {
      const browser = new Browser();
      const hidden = await signUpPage(browser);
      const res = await browser.post(`${t.url}/oauth2/authorize/sign-up`, {
        ...hidden,
        ...signUpFields({ ...facts, ...change }, email()),
      });
      expect(res.status, JSON.stringify(change)).toBe(400);
      messages.add(/role="alert" id="form-error">([^<]*)</.exec(res.html)?.[1] ?? '');
    }
    expect(messages.size).toBe(1);
    expect([...messages][0]).toMatch(/do not match/);
  });

  it('matches a member whose Coverage is no longer active to nothing', async () => {
    const facts = newFacts();
    const patient = await createMember(t, facts);
    const token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const search = await request<{ entry: { resource: { id: string } }[] }>(
      `${t.url}/fhir/R4/Coverage?beneficiary=Patient/${patient}`,
      { token },
    );
    const coverageId = search.body.entry[0]?.resource.id as string;
    await request(`${t.url}/fhir/R4/Coverage/${coverageId}`, {
      method: 'PUT',
      token,
      json: {
        resourceType: 'Coverage',
        id: coverageId,
        status: 'cancelled',
        subscriberId: facts.memberId,
        beneficiary: { reference: `Patient/${patient}` },
        payor: [{ display: 'x' }],
      },
    });
    const browser = new Browser();
    const res = await browser.post(`${t.url}/oauth2/authorize/sign-up`, {
      ...(await signUpPage(browser)),
      ...signUpFields(facts, email()),
    });
    expect(res.status).toBe(400);
  });

  it('links one account to a member, and an email to one member', async () => {
    const { facts } = await codeFor(app.clientId);
    const again = new Browser();
    const second = await again.post(`${t.url}/oauth2/authorize/sign-up`, {
      ...(await signUpPage(again)),
      ...signUpFields(facts, email()),
    });
    expect(second.status).toBe(409);
    expect(second.html).toMatch(/already have an account/);

    const taken = `shared${emails}@example.com`;
    const first = newFacts();
    await createMember(t, first);
    await signUpAndApprove(t, new Browser(), { clientId: app.clientId }, first, taken);
    const other = newFacts();
    await createMember(t, other);
    const browser = new Browser();
    const res = await browser.post(`${t.url}/oauth2/authorize/sign-up`, {
      ...(await signUpPage(browser)),
      ...signUpFields(other, taken.toUpperCase()),
    });
    expect(res.status).toBe(409);
    expect(res.html).toMatch(/another member/);
  });

  it('signs a member in, then slows down and refuses password guessing', async () => {
    const facts = newFacts();
    await createMember(t, facts);
    const address = email();
    await signUpAndApprove(t, new Browser(), { clientId: app.clientId }, facts, address);

    const browser = new Browser();
    const signInForm = async () => hiddenFields((await browser.get(authorizeUrl(t, { clientId: app.clientId }))).html);
    const right = await browser.post(`${t.url}/oauth2/authorize/sign-in`, {
      ...(await signInForm()),
      email: address,
      password: 'correct horse battery',
    });
    expect(right.status).toBe(303);
    // Signed in, the authorization request shows the consent page; signing out shows the sign-in page again.
    const consent = await browser.get(new URL(right.location as string, t.url).toString());
    expect(consent.html).toContain('Allow');
    const out = await browser.post(`${t.url}/oauth2/authorize/sign-out`, hiddenFields(consent.html));
    expect(out.status).toBe(303);
    expect((await browser.get(new URL(out.location as string, t.url).toString())).html).toContain('Sign in');

    const guesser = new Browser();
    const hidden = hiddenFields((await guesser.get(authorizeUrl(t, { clientId: app.clientId }))).html);
    const statuses: number[] = [];
    const slowest: number[] = [];
    for (let i = 0; i < 9; i++) {
      const started = Date.now();
      const res = await guesser.post(`${t.url}/oauth2/authorize/sign-in`, {
        ...hidden,
        email: address,
        password: `guess-${i}-wrong`,
      });
      statuses.push(res.status);
      slowest.push(Date.now() - started);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 401, 401, 429]);
    // Failures beyond the fifth wait before their answer (a floor, not a timing): 250 ms, then 500 ms, then 1 s.
    expect(slowest[7]).toBeGreaterThanOrEqual(900);
    // Refused now, even with the right password.
    const refused = await guesser.post(`${t.url}/oauth2/authorize/sign-in`, {
      ...hidden,
      email: address,
      password: 'correct horse battery',
    });
    expect(refused.status).toBe(429);
  });

  it('sends the app access_denied when the member denies it', async () => {
    const facts = newFacts();
    await createMember(t, facts);
    const browser = new Browser();
    const page = await browser.get(
      `${t.url}/oauth2/authorize/sign-up?${new URLSearchParams(authorizeParams(t, { clientId: app.clientId }))}`,
    );
    const created = await browser.post(`${t.url}/oauth2/authorize/sign-up`, {
      ...hiddenFields(page.html),
      ...signUpFields(facts, email()),
    });
    const consent = await browser.get(new URL(created.location as string, t.url).toString());
    const denied = await browser.post(`${t.url}/oauth2/authorize/consent`, {
      ...hiddenFields(consent.html),
      decision: 'deny',
    });
    expect(denied.status).toBe(303);
    const location = new URL(denied.location as string);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('state-123');
  });
});

describe('the token endpoint', () => {
  it('exchanges a code for the member’s tokens: patient, scope, id_token with fhirUser and nonce, refresh token', async () => {
    const { code, verifier, patient } = await codeFor(app.clientId, { nonce: 'n-0S6_WzA2Mj' });
    const res = await exchangeCode(t, { code, verifier, clientId: app.clientId });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      patient,
      scope: 'launch/patient openid fhirUser offline_access patient/*.read',
    });
    const jwks = createLocalJWKSet((await request(`${t.url}/.well-known/jwks.json`)).body as never);
    const { payload } = await jwtVerify(res.body.id_token as string, jwks, {
      issuer: t.server.services.config.baseUrl,
      audience: app.clientId,
    });
    expect(payload).toMatchObject({ fhirUser: `${fhirBase}/Patient/${patient}`, nonce: 'n-0S6_WzA2Mj' });
    const info = await request(`${t.url}/oauth2/userinfo`, { token: res.body.access_token as string });
    expect(info.body).toEqual({ sub: payload.sub, fhirUser: `${fhirBase}/Patient/${patient}` });
    const anonymous = await request(`${t.url}/oauth2/userinfo`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('invalid_token');
    const admin = await request(`${t.url}/oauth2/userinfo`, {
      token: await getToken(t.url, t.demo.clientId, t.demo.clientSecret),
    });
    expect(admin.status).toBe(403);
    expect(admin.body.error).toBe('insufficient_scope');
    expect(typeof res.body.refresh_token).toBe('string');
  });

  it('grants the seed’s default user/*.read at patient level, and drops what a member app may not write', async () => {
    const { code, verifier } = await codeFor(app.clientId, { scope: 'user/*.read patient/Coverage.write' });
    const res = await exchangeCode(t, { code, verifier, clientId: app.clientId });
    expect(res.body.scope).toBe('patient/*.read');
    expect(res.body.id_token).toBeUndefined();
    expect(res.body.refresh_token).toBeUndefined();
  });

  it('refuses a missing or wrong PKCE verifier, and the code is spent by the wrong one', async () => {
    const { code, verifier } = await codeFor(app.clientId);
    const missing = await request(
      `${t.url}/oauth2/token`,
      form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: app.clientId }),
    );
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    const wrong = await exchangeCode(t, { code, verifier: pkce().verifier, clientId: app.clientId });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    const late = await exchangeCode(t, { code, verifier, clientId: app.clientId });
    expect(late.body.error).toBe('invalid_grant');
  });

  it('refuses a reused code and revokes what the first use issued', async () => {
    const { code, verifier } = await codeFor(app.clientId);
    const first = await exchangeCode(t, { code, verifier, clientId: app.clientId });
    expect(first.status).toBe(200);
    const token = first.body.access_token as string;
    expect((await request(`${t.url}/oauth2/userinfo`, { token })).status).toBe(200);
    const again = await exchangeCode(t, { code, verifier, clientId: app.clientId });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
    expect((await request(`${t.url}/oauth2/userinfo`, { token })).status).toBe(401);
    expect((await refresh({ refresh_token: first.body.refresh_token as string, client_id: app.clientId })).status).toBe(
      400,
    );
  });

  it('refuses an expired code', async () => {
    const { code, verifier } = await codeFor(app.clientId);
    // The clock moved past the code's five minutes.
    await t.server.services.db.query(
      "UPDATE member_grants SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
      [createHash('sha256').update(code).digest('base64url')],
    );
    const res = await exchangeCode(t, { code, verifier, clientId: app.clientId });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/expired/) });
  });

  it('refuses the code of another client, and another redirect URI', async () => {
    const other = await registerMemberApp(t, { public: true });
    const stolen = await codeFor(app.clientId);
    const res = await exchangeCode(t, { code: stolen.code, verifier: stolen.verifier, clientId: other.clientId });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
    const moved = await codeFor(app.clientId);
    const elsewhere = await exchangeCode(t, {
      ...moved,
      clientId: app.clientId,
      redirectUri: 'https://member-app.example/other',
    });
    expect(elsewhere.body.error).toBe('invalid_grant');
  });

  it('authenticates a confidential app', async () => {
    const { code, verifier } = await codeFor(confidential.clientId);
    const anonymous = await exchangeCode(t, { code, verifier, clientId: confidential.clientId });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('invalid_client');
    const second = await codeFor(confidential.clientId);
    const ok = await exchangeCode(t, {
      ...second,
      clientId: confidential.clientId,
      clientSecret: confidential.clientSecret,
    });
    expect(ok.status).toBe(200);
  });

  it('authenticates an app with private_key_jwt (client-confidential-asymmetric)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES384');
    const registered = await request<{ clientId: string; clientSecret?: string }>(
      `${t.url}/admin/projects/${t.demo.projectId}/clients`,
      {
        method: 'POST',
        token: await superAdminToken(t),
        json: {
          name: 'Keyed member app',
          redirectUris: [REDIRECT_URI],
          issuer: 'https://member-app.example',
          jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' }] },
        },
      },
    );
    expect(registered.status).toBe(201);
    expect(registered.body.clientSecret).toBeUndefined();
    const clientId = registered.body.clientId;
    const { code, verifier } = await codeFor(clientId);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid: 'k1' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(`${t.server.services.config.baseUrl}/oauth2/token`)
      .setJti(randomUUID())
      .setExpirationTime('2m')
      .sign(privateKey);
    const res = await request(
      `${t.url}/oauth2/token`,
      form({
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body.access_token).toEqual(expect.any(String));
  });

  it('refuses scope escalation at the token endpoint, and allows narrowing', async () => {
    const first = await codeFor(app.clientId, { scope: 'patient/Coverage.read offline_access' });
    const wider = await request(
      `${t.url}/oauth2/token`,
      form({
        grant_type: 'authorization_code',
        code: first.code,
        code_verifier: first.verifier,
        redirect_uri: REDIRECT_URI,
        client_id: app.clientId,
        scope: 'patient/*.read',
      }),
    );
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe('invalid_scope');

    const second = await codeFor(app.clientId, { scope: 'patient/Coverage.read offline_access' });
    const granted = await exchangeCode(t, { ...second, clientId: app.clientId });
    const refreshToken = granted.body.refresh_token as string;
    for (const scope of ['patient/*.read', 'patient/Coverage.write', 'system/Coverage.read', 'openid']) {
      const res = await refresh({ refresh_token: refreshToken, client_id: app.clientId, scope });
      expect(res.body.error, scope).toBe('invalid_scope');
    }
    // A refresh token refused for its scope was not spent: a narrower request is served.
    const narrower = await refresh({
      refresh_token: refreshToken,
      client_id: app.clientId,
      scope: 'patient/Coverage.rs',
    });
    expect(narrower.status).toBe(200);
    expect(narrower.body.scope).toBe('patient/Coverage.rs');
    expect(typeof narrower.body.refresh_token).toBe('string');
  });

  it('rotates refresh tokens, and a rotated one used again revokes the whole family', async () => {
    const { code, verifier } = await codeFor(app.clientId);
    const first = await exchangeCode(t, { code, verifier, clientId: app.clientId });
    const rotated = await refresh({ refresh_token: first.body.refresh_token as string, client_id: app.clientId });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(rotated.body.patient).toBe(first.body.patient);
    const reused = await refresh({ refresh_token: first.body.refresh_token as string, client_id: app.clientId });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
    // The family is gone: the newest refresh token and every access token of the family.
    expect(
      (await refresh({ refresh_token: rotated.body.refresh_token as string, client_id: app.clientId })).status,
    ).toBe(400);
    for (const token of [first.body.access_token, rotated.body.access_token])
      expect((await request(`${t.url}/oauth2/userinfo`, { token: token as string })).status).toBe(401);
  });

  it('revokes a refresh token at the revocation endpoint (RFC 7009): its family with it, for its own app only', async () => {
    const revoke = (fields: Record<string, string>) => request(`${t.url}/oauth2/revoke`, form(fields));
    const { code, verifier } = await codeFor(app.clientId);
    const tokens = await exchangeCode(t, { code, verifier, clientId: app.clientId });
    const refreshToken = tokens.body.refresh_token as string;
    // Another app's revocation is no revocation (200 all the same: RFC 7009 §2.2).
    const other = { client_id: confidential.clientId, client_secret: confidential.clientSecret as string };
    expect((await revoke({ token: refreshToken, ...other })).status).toBe(200);
    expect((await request(`${t.url}/oauth2/userinfo`, { token: tokens.body.access_token as string })).status).toBe(200);
    // The public app revokes its own, naming itself.
    expect((await revoke({ token: refreshToken, client_id: app.clientId })).status).toBe(200);
    const refused = await refresh({ refresh_token: refreshToken, client_id: app.clientId });
    expect(refused.body.error).toBe('invalid_grant');
    expect((await request(`${t.url}/oauth2/userinfo`, { token: tokens.body.access_token as string })).status).toBe(401);
  });
});

describe('discovery', () => {
  it('advertises the standalone launch in the SMART and OpenID configurations', async () => {
    const base = t.server.services.config.baseUrl;
    for (const path of ['/.well-known/smart-configuration', '/fhir/R4/.well-known/smart-configuration']) {
      const smart = await request<{ capabilities: string[]; code_challenge_methods_supported: string[] }>(
        `${t.url}${path}`,
      );
      expect(smart.body).toMatchObject({
        authorization_endpoint: `${base}/oauth2/authorize`,
        code_challenge_methods_supported: ['S256'],
      });
      for (const capability of [
        'launch-standalone',
        'client-public',
        'client-confidential-symmetric',
        'client-confidential-asymmetric',
        'context-standalone-patient',
        'permission-patient',
        'permission-v1',
        'permission-v2',
        'sso-openid-connect',
        'authorize-post',
      ])
        expect(smart.body.capabilities).toContain(capability);
    }
    const oidc = await request(`${t.url}/.well-known/openid-configuration`);
    expect(oidc.body).toMatchObject({
      issuer: base,
      userinfo_endpoint: `${base}/oauth2/userinfo`,
      id_token_signing_alg_values_supported: ['ES256'],
    });
  });
});
