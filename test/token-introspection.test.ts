/**
 * Introspection (RFC 7662) and revocation (RFC 7009): clients authenticate as at the token endpoint; a token of
 * another project, an expired, a malformed or a revoked one is inactive; a revoked token is refused at once on the
 * FHIR and CDS routes.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientView } from './support/cds.js';
import { basicAuth, form, getToken, request, type JsonResponse } from './support/http.js';
import { startTestServer, type Credentials, type TestServer } from './support/server.js';

let t: TestServer;
let adminToken: string;
let botId: string;

const post = (path: string, fields: Record<string, string>, basic?: Credentials) =>
  request(
    `${t.url}${path}`,
    form(fields, basic ? { Authorization: basicAuth(basic.clientId, basic.clientSecret) } : {}),
  );

const introspect = (token: string, as: Credentials) => post('/oauth2/introspect', { token }, as);
const revoke = (token: string, as: Credentials) => post('/oauth2/revoke', { token }, as);

async function registerClient(projectId: string, role: string): Promise<Credentials> {
  const res = await request<Credentials>(`${t.url}/admin/projects/${projectId}/clients`, {
    method: 'POST',
    token: adminToken,
    json: { name: `introspection-${role}`, role },
  });
  expect(res.status).toBe(201);
  return res.body;
}

const invokeCds = (token: string): Promise<JsonResponse> =>
  request(`${t.url}/cds-services/${botId}`, { method: 'POST', token, json: patientView() });

beforeAll(async () => {
  t = await startTestServer();
  adminToken = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
  const demoToken = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  const bot = await request<{ id: string }>(`${t.url}/fhir/R4/Bot`, {
    method: 'POST',
    token: demoToken,
    json: {
      resourceType: 'Bot',
      name: 'revocation',
      cdsService: { hook: 'patient-view', title: 'Revocation', description: 'Revocation' },
    },
  });
  expect(bot.status).toBe(201);
  botId = bot.body.id;
  const deployed = await request(`${t.url}/fhir/R4/Bot/${botId}/$deploy`, {
    method: 'POST',
    token: demoToken,
    json: { code: 'exports.handler = async () => ({ cards: [] });' },
  });
  expect(deployed.status).toBe(200);
});
afterAll(async () => t?.stop());

describe('POST /oauth2/introspect', () => {
  it('describes an active token to its client: scope, client, times, issuer, project and role', async () => {
    const token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret, 'system/Patient.rs');
    const res = await introspect(token, t.demo);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const base = t.server.services.config.baseUrl;
    expect(res.body).toMatchObject({
      active: true,
      scope: 'system/Patient.rs',
      client_id: t.demo.clientId,
      sub: t.demo.clientId,
      iss: base,
      token_type: 'Bearer',
      project: t.demo.projectId,
      role: 'admin',
    });
    const { exp, iat } = res.body as { exp: number; iat: number };
    expect(exp - iat).toBe(t.server.services.config.accessTokenTtlSeconds);
  });

  it('answers only {"active": false} for a token of another project, an expired, a malformed or a foreign one', async () => {
    const other = await request<{ client: Credentials }>(`${t.url}/admin/projects`, {
      method: 'POST',
      token: adminToken,
      json: { name: 'introspection-other' },
    });
    expect(other.status).toBe(201);
    const otherToken = await getToken(t.url, other.body.client.clientId, other.body.client.clientSecret);
    // The other project's own client sees its token as active; the demo project's does not.
    expect((await introspect(otherToken, other.body.client)).body).toMatchObject({ active: true });

    // Signed with the server's own key, with every claim right, but expired two minutes ago (beyond the skew).
    const { key, config } = t.server.services;
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({
      client_id: t.demo.clientId,
      scope: 'system/*.rs',
      role: 'admin',
      project: t.demo.projectId,
    })
      .setProtectedHeader({ alg: 'ES256', kid: key.current.kid, typ: 'at+jwt' })
      .setIssuer(config.baseUrl)
      .setAudience(config.baseUrl)
      .setSubject(t.demo.clientId)
      .setJti(randomUUID())
      .setIssuedAt(now - 3700)
      .setExpirationTime(now - 120)
      .sign(key.current.privateKey);
    expect((await request(`${t.url}/fhir/R4/Patient`, { token: expired })).status).toBe(401);

    for (const token of [otherToken, expired, 'not-a-token', `${expired.slice(0, -4)}AAAA`]) {
      const res = await introspect(token, t.demo);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    }
  });

  it('shows a project admin every token of its project, and other clients only their own', async () => {
    const developer = await registerClient(t.demo.projectId, 'bot-developer');
    const developerToken = await getToken(t.url, developer.clientId, developer.clientSecret);
    const demoToken = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    expect((await introspect(developerToken, t.demo)).body).toMatchObject({ active: true, role: 'bot-developer' });
    expect((await introspect(developerToken, developer)).body).toMatchObject({ active: true });
    expect((await introspect(demoToken, developer)).body).toEqual({ active: false });
  });

  it('requires client authentication (invalid_client) and a token (invalid_request)', async () => {
    const token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const anonymous = await post('/oauth2/introspect', { token });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: 'invalid_client' });
    const wrong = await introspect(token, { clientId: t.demo.clientId, clientSecret: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'invalid_client' });
    const missing = await post('/oauth2/introspect', {}, t.demo);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: 'invalid_request' });
  });
});

describe('POST /oauth2/revoke', () => {
  it('revokes a token at once: FHIR and CDS routes refuse it (401), introspection says inactive', async () => {
    const token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    // Used first, so the server has it verified and remembered on its warm path.
    expect((await request(`${t.url}/fhir/R4/Patient`, { token })).status).toBe(200);
    expect((await invokeCds(token)).status).toBe(200);

    const res = await revoke(token, t.demo);
    expect(res.status).toBe(200);

    const fhir = await request(`${t.url}/fhir/R4/Patient`, { token });
    expect(fhir.status).toBe(401);
    expect(JSON.stringify(fhir.body)).toContain('revoked');
    expect((await invokeCds(token)).status).toBe(401);
    expect((await request(`${t.url}/cds-services`, { token })).status).toBe(401);
    expect((await introspect(token, t.demo)).body).toEqual({ active: false });
    // Revoking it again, or a token never issued, succeeds without effect.
    expect((await revoke(token, t.demo)).status).toBe(200);
    expect((await revoke('no-such-token', t.demo)).status).toBe(200);
    // Other tokens of the same client still work.
    const fresh = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    expect((await request(`${t.url}/fhir/R4/Patient`, { token: fresh })).status).toBe(200);
  });

  it('lets a client revoke only its own tokens', async () => {
    const developer = await registerClient(t.demo.projectId, 'bot-developer');
    const demoToken = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const res = await revoke(demoToken, developer);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'unauthorized_client' });
    expect((await request(`${t.url}/fhir/R4/Patient`, { token: demoToken })).status).toBe(200);
    const anonymous = await post('/oauth2/revoke', { token: demoToken });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: 'invalid_client' });
  });
});
