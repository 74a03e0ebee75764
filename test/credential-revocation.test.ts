/**
 * Replacing a client's credentials revokes the tokens issued under the old ones on every instance of a deployment
 * (two instances sharing PostgreSQL and Redis): a rotated secret, a key set without the key the client signed with.
 * Tokens issued afterwards work.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, getToken, request } from './support/http.js';
import { startServerPair, type ServerPair } from './support/pair.js';

let p: ServerPair;

beforeAll(async () => {
  p = await startServerPair({ store: 'postgres', redis: true }, { redis: true });
});
afterAll(async () => {
  await p?.b.stop();
  await p?.a.stop();
});

const admin = (path: string, method: string, json?: unknown) =>
  request<Record<string, string>>(`${p.a.url}/admin/projects/${p.a.demo.projectId}/clients${path}`, {
    method,
    token: p.adminA,
    ...(json ? { json } : {}),
  });

/** The status of a FHIR search with `token` on each instance. */
const statuses = async (token: string) =>
  Promise.all([p.a, p.b].map(async (s) => (await request(`${s.url}/fhir/R4/Patient`, { token })).status));

describe('replacing credentials revokes the tokens issued under them', () => {
  it('a rotated secret: the old token is refused on both instances, the old secret too; a new token works', async () => {
    const client = await admin('', 'POST', { name: 'rotating', role: 'bot-developer' });
    const old = await getToken(p.a.url, client.body.clientId as string, client.body.clientSecret as string);
    expect(await statuses(old)).toEqual([200, 200]);

    const rotated = await admin(`/${client.body.clientId}/secret`, 'POST');
    expect(rotated.status).toBe(200);
    expect(rotated.body.clientSecret).not.toBe(client.body.clientSecret);
    expect(await statuses(old)).toEqual([401, 401]);
    const refused = await request(`${p.b.url}/fhir/R4/Patient`, { token: old });
    expect(refused.body).toMatchObject({ issue: [{ details: { coding: [{ code: 'auth.revoked-token' }] } }] });
    const stale = await request(
      `${p.b.url}/oauth2/token`,
      form({
        grant_type: 'client_credentials',
        client_id: client.body.clientId as string,
        client_secret: client.body.clientSecret as string,
      }),
    );
    expect(stale.status).toBe(401);
    const introspected = await request(
      `${p.b.url}/oauth2/introspect`,
      form({
        token: old,
        client_id: client.body.clientId as string,
        client_secret: rotated.body.clientSecret as string,
      }),
    );
    expect(introspected.body).toEqual({ active: false });

    const fresh = await getToken(p.b.url, client.body.clientId as string, rotated.body.clientSecret as string);
    expect(await statuses(fresh)).toEqual([200, 200]);
  });

  it('a removed key: the token got with it is refused on both instances; one got with the kept key works', async () => {
    const [removed, kept] = await Promise.all([generateKeyPair('ES256'), generateKeyPair('ES256')]);
    const jwk = async (key: CryptoKey, kid: string): Promise<JWK> => ({
      ...(await exportJWK(key)),
      kid,
      alg: 'ES256',
    });
    const issuer = 'https://partner.example/backend';
    const client = await admin('', 'POST', {
      name: 'backend service',
      role: 'bot-developer',
      issuer,
      jwks: { keys: [await jwk(removed.publicKey, 'removed'), await jwk(kept.publicKey, 'kept')] },
    });
    const clientId = client.body.clientId as string;
    const tokenWith = async (key: CryptoKey, kid: string) => {
      const assertion = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(`${p.a.env.BASE_URL}/oauth2/token`)
        .setIssuedAt()
        .setExpirationTime('2m')
        .sign(key);
      const res = await request<{ access_token: string }>(
        `${p.a.url}/oauth2/token`,
        form({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }),
      );
      return [res.status, res.body.access_token] as const;
    };
    const [, old] = await tokenWith(removed.privateKey, 'removed');
    expect(await statuses(old)).toEqual([200, 200]);

    const replaced = await admin(`/${clientId}/keys`, 'PUT', { jwks: { keys: [await jwk(kept.publicKey, 'kept')] } });
    expect(replaced.status).toBe(200);
    expect(await statuses(old)).toEqual([401, 401]);
    expect((await tokenWith(removed.privateKey, 'removed'))[0]).toBe(401);
    const [status, fresh] = await tokenWith(kept.privateKey, 'kept');
    expect(status).toBe(200);
    expect(await statuses(fresh)).toEqual([200, 200]);
  });

  it('answers 404 for a client of another project, 400 for the wrong kind of credentials', async () => {
    const other = await request<{ client: { clientId: string } }>(`${p.a.url}/admin/projects`, {
      method: 'POST',
      token: p.adminA,
      json: { name: 'credential revocation other' },
    });
    expect((await admin(`/${other.body.client.clientId}/secret`, 'POST')).status).toBe(404);
    expect((await admin(`/${p.a.demo.clientId}/keys`, 'PUT', { jwks: { keys: [] } })).status).toBe(400);
    // The demo client's token still works: nothing was replaced.
    expect(await statuses(await getToken(p.a.url, p.a.demo.clientId, p.a.demo.clientSecret))).toEqual([200, 200]);
  });
});
