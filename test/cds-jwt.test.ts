/**
 * CDS Hooks client JWTs (CDS Hooks 2.0 "Trusting CDS Clients"): a registered EHR signs each call with its key;
 * `aud` is the URL called; expiry with 60 s skew; `jti` single-use; `alg: none` and HMAC refused; keys from an
 * inline JWKS or a JWKS URL (rotation); `tenant` picks the project when one issuer serves several.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { request } from './support/http.js';
import { patientView, SCRIPT_BOT, seen, startCdsHarness, type CdsHarness } from './support/cds.js';

let h: CdsHarness;
let serviceId: string;
const ISSUER = 'https://ehr.example.org/jwt-tests';

interface Key {
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' } };
}

let k1: Key;

async function registerClient(projectId: string, body: Record<string, unknown>) {
  const res = await request<{ clientId: string }>(`${h.t.url}/admin/projects/${projectId}/clients`, {
    method: 'POST',
    token: h.adminToken,
    json: body,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.clientId;
}

interface SignOptions {
  key?: Key;
  iss?: string;
  aud?: string | string[];
  exp?: number;
  iat?: number;
  jti?: string | null;
  kid?: string;
  extra?: Record<string, unknown>;
  header?: Record<string, unknown>;
}

const now = () => Math.floor(Date.now() / 1000);
const discoveryUrl = () => `${h.t.url}/cds-services`;

async function sign(o: SignOptions = {}): Promise<string> {
  const key = o.key ?? k1;
  const jwt = new SignJWT({ ...(o.jti === null ? {} : { jti: o.jti ?? randomUUID() }), ...o.extra })
    .setProtectedHeader({ alg: 'ES384', typ: 'JWT', kid: o.kid ?? (key.jwk.kid as string), ...o.header })
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? discoveryUrl())
    .setIssuedAt(o.iat ?? now())
    .setExpirationTime(o.exp ?? now() + 300);
  return jwt.sign(key.privateKey);
}

const discover = (token: string) => request<{ services?: { id: string }[] }>(discoveryUrl(), { token });

function expectRefused(res: { status: number; headers: Headers; body: Record<string, unknown> }, message?: RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  expect(res.body.resourceType).toBe('OperationOutcome');
  if (message) expect(JSON.stringify(res.body)).toMatch(message);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  h = await startCdsHarness();
  serviceId = await h.deployService({ hook: 'patient-view', title: 'JWT', description: 'JWT target' }, SCRIPT_BOT);
  k1 = await newKey('k1');
  await registerClient(h.t.demo.projectId, { name: 'EHR (inline JWKS)', issuer: ISSUER, jwks: { keys: [k1.jwk] } });
});
afterAll(async () => h?.stop());

describe('CDS client JWT', () => {
  it('accepts a valid JWT for discovery and for an invocation (aud = the URL called)', async () => {
    const res = await discover(await sign());
    expect(res.status).toBe(200);
    expect(res.body.services?.map((s) => s.id)).toContain(serviceId);
    const url = `${h.t.url}/cds-services/${serviceId}`;
    expect(seen(await h.invoke(serviceId, patientView(), { token: await sign({ aud: url }) })).hook).toBe(
      'patient-view',
    );
  });

  it('refuses a JWT whose aud names another URL', async () => {
    expectRefused(await discover(await sign({ aud: 'https://other.example.org/cds-services' })), /aud/);
    const url = `${h.t.url}/cds-services/${serviceId}`;
    expectRefused(await h.invoke(serviceId, patientView(), { token: await sign({ aud: discoveryUrl() }) }), /aud/);
    expect(url).toContain(serviceId);
  });

  it('accepts aud as an array and with a trailing slash', async () => {
    expect((await discover(await sign({ aud: ['https://other.example.org', discoveryUrl()] }))).status).toBe(200);
    expect((await discover(await sign({ aud: `${discoveryUrl()}/` }))).status).toBe(200);
  });

  it('refuses an expired JWT, and tolerates 60 s of clock skew', async () => {
    expectRefused(await discover(await sign({ iat: now() - 400, exp: now() - 90 })), /expired/);
    expect((await discover(await sign({ iat: now() - 330, exp: now() - 30 }))).status).toBe(200);
    expect((await discover(await sign({ iat: now() + 30 }))).status).toBe(200);
  });

  it('refuses a JWT living longer than the maximum or issued in the future, and keeps its jti no longer', async () => {
    const max = h.t.server.services.config.cdsJwtMaxLifetimeSeconds;
    expectRefused(await discover(await sign({ exp: now() + 10 * 365 * 86_400 })), /lifetime/);
    expectRefused(await discover(await sign({ iat: now() - 60, exp: now() + max })), /lifetime/);
    expectRefused(await discover(await sign({ iat: now() + 3600, exp: now() + 3900 })), /iat/);
    const setOnce = vi.spyOn(h.t.server.services.shared, 'setOnce');
    try {
      expect((await discover(await sign({ iat: now(), exp: now() + max }))).status).toBe(200);
      expect((await discover(await sign({ iat: now(), exp: now() + 300 }))).status).toBe(200);
      const ttls = setOnce.mock.calls.map(([, ttl]) => ttl);
      expect(ttls).toHaveLength(2);
      expect(ttls[0]).toBeLessThanOrEqual(max + 60);
      expect(ttls[1]).toBeLessThanOrEqual(300 + 60);
    } finally {
      setOnce.mockRestore();
    }
  });

  it('refuses a replayed jti, and a JWT without jti', async () => {
    const token = await sign();
    expect((await discover(token)).status).toBe(200);
    expectRefused(await discover(token), /jti/);
    expectRefused(await discover(await sign({ jti: null })), /jti/);
  });

  it('refuses alg none', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT', kid: 'k1' })}.${b64({ iss: ISSUER, aud: discoveryUrl(), exp: now() + 300, iat: now(), jti: randomUUID() })}.`;
    expectRefused(await discover(unsigned), /alg/);
  });

  it('refuses HMAC (HS256) even with a key the server could guess', async () => {
    const secret = new TextEncoder().encode('a-shared-secret-of-32-bytes-len!');
    const token = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(discoveryUrl())
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(secret);
    expectRefused(await discover(token), /alg/);
  });

  it('refuses an unknown kid, a key that is not registered, and an unknown issuer', async () => {
    expectRefused(await discover(await sign({ kid: 'nope' })), /kid|key/i);
    const stranger = await newKey('k1');
    expectRefused(await discover(await sign({ key: stranger })));
    expectRefused(await discover(await sign({ iss: 'https://unknown.example.org' })), /issuer/);
  });

  it('accepts an EHR as soon as it is registered, although it was refused just before', async () => {
    const issuer = 'https://ehr.example.org/registered-late';
    const key = await newKey('late-1');
    expectRefused(await discover(await sign({ key, iss: issuer })), /issuer/);
    await registerClient(h.t.demo.projectId, { name: 'EHR (late)', issuer, jwks: { keys: [key.jwk] } });
    expect((await discover(await sign({ key, iss: issuer }))).status).toBe(200);
  });

  it('follows a key rotation at the registered jwksUri', async () => {
    const issuer = 'https://ehr.example.org/rotating';
    const a = await newKey('rot-a');
    const b = await newKey('rot-b');
    h.ehr.jwks = { keys: [a.jwk] };
    await registerClient(h.t.demo.projectId, { name: 'EHR (jwksUri)', issuer, jwksUri: h.ehr.jwksUri });
    expect((await discover(await sign({ key: a, iss: issuer }))).status).toBe(200);
    const fetchesBefore = h.ehr.jwksFetches;
    expect((await discover(await sign({ key: a, iss: issuer }))).status).toBe(200);
    expect(h.ehr.jwksFetches).toBe(fetchesBefore);

    h.ehr.jwks = { keys: [b.jwk] };
    // The key cache refetches on an unknown kid, at most once per cooldown (10 s), so a flood of bad kids
    // cannot make the server hammer the EHR.
    await new Promise((r) => setTimeout(r, 10_500));
    expect((await discover(await sign({ key: b, iss: issuer }))).status).toBe(200);
    expectRefused(await discover(await sign({ key: a, iss: issuer })));
  }, 30_000);

  it('honours jku only when it is the registered JWKS URL', async () => {
    const issuer = 'https://ehr.example.org/jku';
    const key = await newKey('jku-1');
    h.ehr.jwks = { keys: [key.jwk] };
    const jwksUri = `${h.ehr.jwksUri}?client=jku`;
    await registerClient(h.t.demo.projectId, { name: 'EHR (jku)', issuer, jwksUri });
    expect((await discover(await sign({ key, iss: issuer, header: { jku: jwksUri } }))).status).toBe(200);
    expectRefused(
      await discover(await sign({ key, iss: issuer, header: { jku: 'https://attacker.example.org/jwks' } })),
      /jku/,
    );
  });

  it('uses the tenant claim when one issuer is registered with several projects', async () => {
    const issuer = 'https://ehr.example.org/multi-tenant';
    const key = await newKey('mt-1');
    const other = await request<{ project: { id: string } }>(`${h.t.url}/admin/projects`, {
      method: 'POST',
      token: h.adminToken,
      json: { name: 'jwt-other' },
    });
    expect(other.status).toBe(201);
    await registerClient(h.t.demo.projectId, { name: 'EHR demo', issuer, jwks: { keys: [key.jwk] } });
    await registerClient(other.body.project.id, { name: 'EHR other', issuer, jwks: { keys: [key.jwk] } });

    expectRefused(await discover(await sign({ key, iss: issuer })), /tenant/);
    const demo = await discover(await sign({ key, iss: issuer, extra: { tenant: h.t.demo.projectId } }));
    expect(demo.body.services?.map((s) => s.id)).toContain(serviceId);
    const theirs = await discover(await sign({ key, iss: issuer, extra: { tenant: other.body.project.id } }));
    expect(theirs.status).toBe(200);
    expect(theirs.body.services).toEqual([]);
    expectRefused(await discover(await sign({ key, iss: issuer, extra: { tenant: 'no-such-project' } })), /tenant/);
  });
});
