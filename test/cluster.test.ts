/**
 * Two server instances of one deployment (PostgreSQL + Redis, one base URL): what one instance changes, the
 * other serves at once, although it cached the old state on its warm path (Bot, compiled code, settings, the
 * clients of a JWT issuer). Invalidation travels over Redis pub/sub, so the checks poll for up to 3 s.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientView } from './support/cds.js';
import { basicAuth, form, getToken, request, type JsonResponse } from './support/http.js';
import { startServerPair } from './support/pair.js';
import type { TestServer } from './support/server.js';

let a: TestServer;
let b: TestServer;
let tokenA: string;
let tokenB: string;
let adminA: string;

const botCode = (label: string) =>
  `exports.handler = async () => ({ cards: [{ summary: '${label}', indicator: 'info', source: { label: 'cluster' } }] });`;

const invoke = (server: TestServer, id: string, token: string): Promise<JsonResponse> =>
  request(`${server.url}/cds-services/${id}`, { method: 'POST', token, json: patientView() });

const summary = (res: JsonResponse) =>
  res.status === 200 ? (res.body.cards as { summary: string }[])[0]?.summary : `HTTP ${res.status}`;

const poll = { timeout: 3000, interval: 50 };

beforeAll(async () => {
  ({ a, b, tokenA, tokenB, adminA } = await startServerPair(
    { store: 'postgres', redis: true },
    { store: 'postgres', redis: true },
  ));
});

afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

describe('two instances of one deployment', () => {
  it('refuse a token revoked on either instance at once, although the other had it verified and warm', async () => {
    const token = await getToken(a.url, a.demo.clientId, a.demo.clientSecret);
    expect((await request(`${b.url}/fhir/R4/Patient`, { token })).status).toBe(200);
    const basic = basicAuth(a.demo.clientId, a.demo.clientSecret);
    const revoked = await request(`${a.url}/oauth2/revoke`, form({ token }, { Authorization: basic }));
    expect(revoked.status).toBe(200);
    // No polling: the marker is read from Redis on every request, not carried by pub/sub.
    expect((await request(`${b.url}/fhir/R4/Patient`, { token })).status).toBe(401);
    expect((await request(`${a.url}/fhir/R4/Patient`, { token })).status).toBe(401);
  });

  it('serve a redeployed or deleted bot everywhere, although the other instance had it warm', async () => {
    const created = await request<{ id: string }>(`${a.url}/fhir/R4/Bot`, {
      method: 'POST',
      token: tokenA,
      json: {
        resourceType: 'Bot',
        name: 'cluster',
        cdsService: { hook: 'patient-view', title: 'Cluster', description: 'Cluster' },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const deploy = (label: string) =>
      request(`${a.url}/fhir/R4/Bot/${id}/$deploy`, { method: 'POST', token: tokenA, json: { code: botCode(label) } });

    expect((await deploy('first')).status).toBe(200);
    await expect.poll(async () => summary(await invoke(b, id, tokenB)), poll).toBe('first');
    expect(summary(await invoke(b, id, tokenB))).toBe('first');

    expect((await deploy('second')).status).toBe(200);
    await expect.poll(async () => summary(await invoke(b, id, tokenB)), poll).toBe('second');

    const deleted = await request(`${a.url}/fhir/R4/Bot/${id}`, { method: 'DELETE', token: tokenA });
    expect(deleted.status).toBeLessThan(300);
    await expect.poll(async () => (await invoke(b, id, tokenB)).status, poll).toBe(404);
  });

  it('share project secrets, encrypted with the one key every instance is given', async () => {
    const put = await request(`${a.url}/admin/projects/${a.demo.projectId}/settings`, {
      method: 'PUT',
      token: adminA,
      json: { secrets: [{ name: 'PAYER_ID', value: 'shared-9b1' }] },
    });
    expect(put.status).toBe(200);
    const created = await request<{ id: string }>(`${a.url}/fhir/R4/Bot`, {
      method: 'POST',
      token: tokenA,
      json: { resourceType: 'Bot', name: 'secret-reader' },
    });
    const code = `exports.handler = async (medplum, event) => ({ payer: event.secrets.PAYER_ID.valueString });`;
    await request(`${a.url}/fhir/R4/Bot/${created.body.id}/$deploy`, { method: 'POST', token: tokenA, json: { code } });
    const execute = async () =>
      (await request(`${b.url}/fhir/R4/Bot/${created.body.id}/$execute`, { method: 'POST', token: tokenB, json: {} }))
        .body.payer;
    await expect.poll(execute, poll).toBe('shared-9b1');
  });

  it('accept an EHR on the other instance as soon as it is registered', async () => {
    const issuer = `https://ehr.example.org/${randomUUID()}`;
    const { privateKey, publicKey } = await generateKeyPair('ES384');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' };
    const discover = async () => {
      const now = Math.floor(Date.now() / 1000);
      const jwt = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES384', typ: 'JWT', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience(`${b.server.services.config.baseUrl}/cds-services`)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(privateKey);
      return (await request(`${b.url}/cds-services`, { token: jwt })).status;
    };

    // Instance b now remembers that nobody is registered for this issuer.
    expect(await discover()).toBe(401);
    const registered = await request(`${a.url}/admin/projects/${a.demo.projectId}/clients`, {
      method: 'POST',
      token: adminA,
      json: { name: 'EHR', issuer, jwks: { keys: [jwk] } },
    });
    expect(registered.status).toBe(201);
    await expect.poll(discover, poll).toBe(200);
  });
});
