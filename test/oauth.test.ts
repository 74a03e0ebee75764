import { randomUUID } from 'node:crypto';
import { generateKeyPair, exportJWK, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, getToken, request } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ store: 'postgres', redis: true });
});
afterAll(async () => t?.stop());

describe('POST /oauth2/token', () => {
  it('issues a bearer JWT for client credentials in the body, with the granted scope', async () => {
    const res = await request<Record<string, unknown>>(
      `${t.url}/oauth2/token`,
      form({ grant_type: 'client_credentials', client_id: t.demo.clientId, client_secret: t.demo.clientSecret }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'system/*.cruds' });
    const [, payload] = String(res.body.access_token).split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
    expect(claims).toMatchObject({ project: t.demo.projectId, client_id: t.demo.clientId, scope: 'system/*.cruds' });
  });

  it('accepts HTTP Basic client authentication and down-scoping', async () => {
    const basic = Buffer.from(`${t.demo.clientId}:${t.demo.clientSecret}`).toString('base64');
    const res = await request(
      `${t.url}/oauth2/token`,
      form(
        { grant_type: 'client_credentials', scope: 'system/Patient.rs system/Bot.read' },
        { Authorization: `Basic ${basic}` },
      ),
    );
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('system/Patient.rs system/Bot.read');
  });

  it('verifies tokens against the published JWKS', async () => {
    const jwks = await request<{ keys: { kid: string; alg: string; d?: string }[] }>(`${t.url}/.well-known/jwks.json`);
    expect(jwks.body.keys).toHaveLength(1);
    expect(jwks.body.keys[0]?.alg).toBe('ES256');
    expect(jwks.body.keys[0]?.d).toBeUndefined();
  });

  it.each([
    ['invalid_request', 400, { client_id: 'x', client_secret: 'y' }],
    ['unsupported_grant_type', 400, { grant_type: 'password', client_id: 'x', client_secret: 'y' }],
    ['invalid_request', 400, { grant_type: 'authorization_code', code: 'abc' }],
    ['invalid_client', 401, { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'nothing' }],
    ['invalid_client', 401, { grant_type: 'client_credentials' }],
  ])('answers %s (%i)', async (error, status, fields) => {
    const res = await request(`${t.url}/oauth2/token`, form(fields as Record<string, string>));
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
    expect(typeof res.body.error_description).toBe('string');
  });

  it('answers invalid_client to Basic credentials that are not valid URL encoding', async () => {
    const basic = Buffer.from(`${t.demo.clientId}:%E0%A4%A`).toString('base64');
    const res = await request(
      `${t.url}/oauth2/token`,
      form({ grant_type: 'client_credentials' }, { Authorization: `Basic ${basic}` }),
    );
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('answers invalid_client for a wrong secret', async () => {
    const res = await request(
      `${t.url}/oauth2/token`,
      form({ grant_type: 'client_credentials', client_id: t.demo.clientId, client_secret: 'wrong' }),
    );
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('answers invalid_scope for scopes the client does not hold or that are not SMART', async () => {
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const created = await request<{ clientId: string; clientSecret: string }>(
      `${t.url}/admin/projects/${t.demo.projectId}/clients`,
      {
        method: 'POST',
        token: admin,
        json: { name: 'reader', role: 'bot-developer', scope: 'system/*.read' },
      },
    );
    expect(created.status).toBe(201);
    for (const scope of ['system/Bot.write', 'launch/patient', 'system/Patient.rs?gender=male']) {
      const res = await request(
        `${t.url}/oauth2/token`,
        form({
          grant_type: 'client_credentials',
          client_id: created.body.clientId,
          client_secret: created.body.clientSecret,
          scope,
        }),
      );
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_scope');
    }
  });

  it('answers 400 invalid_request to a JSON body', async () => {
    const res = await request(`${t.url}/oauth2/token`, { method: 'POST', json: { grant_type: 'client_credentials' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('supports private_key_jwt client assertions, refusing a replayed jti', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES384');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' };
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const created = await request<{ clientId: string; clientSecret?: string }>(
      `${t.url}/admin/projects/${t.demo.projectId}/clients`,
      {
        method: 'POST',
        token: admin,
        json: { name: 'backend service', issuer: 'https://backend.example.org', jwks: { keys: [jwk] } },
      },
    );
    expect(created.status).toBe(201);
    expect(created.body.clientSecret).toBeUndefined();
    const clientId = created.body.clientId;
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid: 'k1', typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(`${t.url}/oauth2/token`)
      .setJti('once')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const fields = {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    };
    const first = await request(`${t.url}/oauth2/token`, form(fields));
    expect(first.status).toBe(200);
    const replay = await request(`${t.url}/oauth2/token`, form(fields));
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_client');
  });

  it('bounds private_key_jwt assertions to five minutes, without requiring iat, and alone', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES384');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k2', alg: 'ES384' };
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const created = await request<{ clientId: string }>(`${t.url}/admin/projects/${t.demo.projectId}/clients`, {
      method: 'POST',
      token: admin,
      json: { name: 'lifetimes', issuer: 'https://lifetimes.example.org', jwks: { keys: [jwk] } },
    });
    const clientId = created.body.clientId;
    const now = Math.floor(Date.now() / 1000);
    const assertion = (claims: { exp: number; iat?: number }) =>
      new SignJWT({ jti: randomUUID(), ...claims })
        .setProtectedHeader({ alg: 'ES384', kid: 'k2', typ: 'JWT' })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(`${t.url}/oauth2/token`)
        .sign(privateKey);
    const send = async (claims: { exp: number; iat?: number }, extra: Record<string, string> = {}) =>
      request(
        `${t.url}/oauth2/token`,
        form({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion(claims),
          ...extra,
        }),
      );
    expect((await send({ exp: now + 240 })).status).toBe(200);
    for (const claims of [
      { exp: now + 365 * 86_400, iat: now },
      { exp: now + 600 },
      { exp: now + 240, iat: now + 3600 },
    ]) {
      const refused = await send(claims);
      expect(refused.status, JSON.stringify(claims)).toBe(401);
      expect(refused.body.error).toBe('invalid_client');
    }
    const both = await send({ exp: now + 240 }, { client_id: clientId, client_secret: 'also-a-secret' });
    expect(both.status).toBe(400);
    expect(both.body.error).toBe('invalid_request');
  });
});

describe('client roles', () => {
  const clientsUrl = () => `${t.url}/admin/projects/${t.demo.projectId}/clients`;
  const register = async (json: Record<string, unknown>) => {
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    return request<{ clientId: string; clientSecret?: string; role: string; scope: string }>(clientsUrl(), {
      method: 'POST',
      token: admin,
      json,
    });
  };
  const assertionFor = async (clientId: string, privateKey: CryptoKey) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid: 'ehr-1', typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(`${t.url}/oauth2/token`)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

  it('gives an EHR client (issuer + jwks) CDS Hooks only: no FHIR API, no bot or rule-set changes, no stats', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES384');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'ehr-1', alg: 'ES384' };
    const created = await register({ name: 'Epic', issuer: 'https://epic.example.org/roles', jwks: { keys: [jwk] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ role: 'ehr', scope: 'cds-hooks' });
    const tokenWith = (scope?: string) =>
      assertionFor(created.body.clientId, privateKey).then((assertion) =>
        request<Record<string, string>>(
          `${t.url}/oauth2/token`,
          form({
            grant_type: 'client_credentials',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: assertion,
            ...(scope ? { scope } : {}),
          }),
        ),
      );
    const issued = await tokenWith();
    expect(issued.status).toBe(200);
    expect(issued.body.scope).toBe('cds-hooks');
    for (const scope of ['system/*.cruds', 'system/Bot.rs', 'cds-hooks system/Patient.read']) {
      const more = await tokenWith(scope);
      expect(more.status, scope).toBe(400);
      expect(more.body.error).toBe('invalid_scope');
    }
    const token = issued.body.access_token as string;
    expect((await request(`${t.url}/cds-services`, { token })).status).toBe(200);
    const denied = [
      await request(`${t.url}/fhir/R4/Patient`, { token }),
      await request(`${t.url}/fhir/R4/Bot`, { method: 'POST', token, json: { resourceType: 'Bot', name: 'x' } }),
      await request(`${t.url}/fhir/R4/Bot/any/$deploy`, { method: 'POST', token, json: { code: 'x' } }),
      await request(`${t.url}/fhir/R4/Bot/$deploy-rules`, { method: 'POST', token, json: { ruleSet: {} } }),
      await request(`${t.url}/fhir/R4/Bot/$test-rules`, { method: 'POST', token, json: { ruleSet: {} } }),
      await request(`${t.url}/cds-feedback/stats`, { token }),
      await request(`${t.url}/admin/projects`, { token }),
    ];
    expect(denied.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403, 403]);
  });

  it('registers a client without a role as an EHR, and refuses scopes beyond its role', async () => {
    const plain = await register({ name: 'EHR with a secret' });
    expect(plain.body).toMatchObject({ role: 'ehr', scope: 'cds-hooks' });
    const token = await getToken(t.url, plain.body.clientId, plain.body.clientSecret as string);
    expect((await request(`${t.url}/fhir/R4/Patient`, { token })).status).toBe(403);
    for (const json of [
      { name: 'x', scope: 'system/*.read' },
      { name: 'x', role: 'member-app', scope: 'system/Patient.rs' },
      { name: 'x', role: 'partner', scope: 'system/Bot.rs' },
      { name: 'x', role: 'bot-developer', scope: 'system/Patient.write' },
      { name: 'x', role: 'owner' },
    ]) {
      const refused = await register(json);
      expect(refused.status, JSON.stringify(json)).toBe(400);
      expect(refused.body).toMatchObject({ resourceType: 'OperationOutcome' });
    }
  });

  it('gives a partner CDS Hooks and prior authorization (the pas scope), and no other FHIR route', async () => {
    const partner = await register({ name: 'clearinghouse', role: 'partner' });
    expect(partner.status).toBe(201);
    expect(partner.body).toMatchObject({ role: 'partner', scope: 'cds-hooks pas' });
    const narrowed = await register({ name: 'clearinghouse-cds', role: 'partner', scope: 'cds-hooks' });
    expect(narrowed.body).toMatchObject({ role: 'partner', scope: 'cds-hooks' });
    for (const json of [
      { name: 'x', role: 'partner', scope: 'system/Claim.c' },
      { name: 'x', role: 'ehr', scope: 'pas' },
      { name: 'x', role: 'member-app', scope: 'pas' },
    ]) {
      const refused = await register(json);
      expect(refused.status, JSON.stringify(json)).toBe(400);
    }
    const token = await getToken(t.url, partner.body.clientId, partner.body.clientSecret as string);
    expect((await request(`${t.url}/cds-services`, { token })).status).toBe(200);
    const denied = [
      await request(`${t.url}/fhir/R4/Patient`, { token }),
      await request(`${t.url}/fhir/R4/Claim`, { method: 'POST', token, json: { resourceType: 'Claim' } }),
      await request(`${t.url}/fhir/R4/ClaimResponse`, { token }),
      await request(`${t.url}/fhir/R4/Bot/any/$bind-pas`, { method: 'POST', token, json: {} }),
      await request(`${t.url}/admin/projects`, { token }),
    ];
    expect(denied.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
  });

  it('lets a bot developer change Bots and read data, but not write other resources', async () => {
    const dev = await register({ name: 'developer', role: 'bot-developer' });
    expect(dev.body).toMatchObject({ role: 'bot-developer', scope: 'system/Bot.cruds system/Binary.c system/*.rs' });
    const token = await getToken(t.url, dev.body.clientId, dev.body.clientSecret as string);
    const bot = await request<{ id: string }>(`${t.url}/fhir/R4/Bot`, {
      method: 'POST',
      token,
      json: { resourceType: 'Bot', name: 'dev-bot' },
    });
    expect(bot.status).toBe(201);
    const deployed = await request(`${t.url}/fhir/R4/Bot/${bot.body.id}/$deploy`, {
      method: 'POST',
      token,
      json: { code: 'exports.handler = async () => 1;' },
    });
    expect(deployed.status).toBe(200);
    expect((await request(`${t.url}/fhir/R4/Patient`, { token })).status).toBe(200);
    expect((await request(`${t.url}/cds-feedback/stats`, { token })).status).toBe(200);
    const patient = await request(`${t.url}/fhir/R4/Patient`, {
      method: 'POST',
      token,
      json: { resourceType: 'Patient' },
    });
    expect(patient.status).toBe(403);
    const more = await request(
      `${t.url}/oauth2/token`,
      form({
        grant_type: 'client_credentials',
        client_id: dev.body.clientId,
        client_secret: dev.body.clientSecret as string,
        scope: 'system/*.cruds',
      }),
    );
    expect(more.body.error).toBe('invalid_scope');
  });
});

describe('/admin', () => {
  it('creates a project with a client, only for the super-admin', async () => {
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const res = await request<{
      project: { id: string; name: string };
      client: { clientId: string; clientSecret: string };
    }>(`${t.url}/admin/projects`, { method: 'POST', token: admin, json: { name: 'acme-health' } });
    expect(res.status).toBe(201);
    expect(res.body.project.name).toBe('acme-health');
    const token = await getToken(t.url, res.body.client.clientId, res.body.client.clientSecret);
    const denied = await request(`${t.url}/admin/projects`, { method: 'POST', token, json: { name: 'x' } });
    expect(denied.status).toBe(403);
    expect(denied.body.resourceType).toBe('OperationOutcome');
    const duplicate = await request(`${t.url}/admin/projects`, {
      method: 'POST',
      token: admin,
      json: { name: 'acme-health' },
    });
    expect(duplicate.status).toBe(409);
  });
});

describe('/healthcheck', () => {
  it('reports the database and Redis', async () => {
    const res = await request(`${t.url}/healthcheck`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, db: 'ok', redis: 'ok' });
  });
});
