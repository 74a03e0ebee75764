/**
 * Redis stopped mid-traffic, on a redis-server this test starts itself (append-only, as docker-compose.yml runs it)
 * and an instance on PostgreSQL. What refuses: everything that needs a one-time marker (the revocation check of
 * every access token, a client assertion's or CDS client JWT's `jti`) answers 503 `server.unavailable` at once,
 * never 500 and never a hang. What degrades: rate limits count in the instance alone (tokens are still issued with
 * a client secret, within the project's limit). Nothing acknowledged is lost: every write answered 201 is there, and
 * a PAS delivery queued before the outage is sent after it. When Redis is back, the instance serves again, with the
 * markers set before the outage still in force.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, ClaimResponse } from '@medplum/fhirtypes';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, form, getToken, request, type JsonResponse } from './support/http.js';
import { startOwnRedis, until, type OwnRedis } from './support/own-services.js';
import { demoClientToken, itemResults, requestWith } from './support/pas.js';
import { startReceiver, type Receiver, type Received } from './support/receiver.js';
import { startTestServer, type Credentials, type TestServer } from './support/server.js';

let redis: OwnRedis;
let t: TestServer;
let receiver: Receiver;
let admin: string;
let token: string;

beforeAll(async () => {
  redis = await startOwnRedis();
  receiver = await startReceiver({ id: 'partner', secret: 'unused' });
  t = await startTestServer({
    store: 'postgres',
    env: {
      REDIS_URL: redis.url,
      NODE_ENV: 'development',
      // A delivery keeps being retried, soon, for as long as the test needs.
      HOOKBOT_DELIVERY_BACKOFF_MS: '100',
      HOOKBOT_DELIVERY_MAX_BACKOFF_MS: '300',
      HOOKBOT_DELIVERY_MAX_ATTEMPTS: '1000',
    },
  });
  admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
  token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
}, 120_000);

afterAll(async () => {
  // Redis first runs again, so the server's queue and connections close promptly.
  await redis?.start().catch(() => undefined);
  await t?.stop();
  await receiver?.close();
  await redis?.close();
});

const patients = () => `${t.url}/fhir/R4/Patient`;

/** A 503 OperationOutcome naming `server.unavailable`, with `Retry-After`. */
function expectUnavailable(res: JsonResponse): void {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBeTruthy();
  expect(JSON.stringify(res.body)).toContain('server.unavailable');
}

describe('Redis stopped mid-traffic', () => {
  it('refuses what needs a marker, degrades rate limits, loses nothing acknowledged, and recovers', async () => {
    // Before the outage: a revoked token, a used client assertion, a project limiting its tokens, a pending delivery.
    const revoked = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const revocation = await request(
      `${t.url}/oauth2/revoke`,
      form({ token: revoked }, { Authorization: basicAuth(t.demo.clientId, t.demo.clientSecret) }),
    );
    expect(revocation.status).toBe(200);

    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const backend = await request<{ clientId: string }>(`${t.url}/admin/projects/${t.demo.projectId}/clients`, {
      method: 'POST',
      token: admin,
      json: {
        name: 'backend',
        role: 'admin',
        issuer: 'https://backend.example.org',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] },
      },
    });
    expect(backend.status).toBe(201);
    const assertion = async () =>
      form({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
          .setIssuer(backend.body.clientId)
          .setSubject(backend.body.clientId)
          .setAudience(`${t.server.services.config.baseUrl}/oauth2/token`)
          .setJti(randomUUID())
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(privateKey),
      });
    const usedAssertion = await assertion();
    expect((await request(`${t.url}/oauth2/token`, usedAssertion)).status).toBe(200);

    const limited = await request<{ project: { id: string }; client: Credentials }>(`${t.url}/admin/projects`, {
      method: 'POST',
      token: admin,
      json: { name: `limited-${randomUUID()}` },
    });
    expect(limited.status).toBe(201);
    const limits = await request(`${t.url}/admin/projects/${limited.body.project.id}/settings`, {
      method: 'PUT',
      token: admin,
      json: { rateLimits: { tokenPerClient: 2, windowSeconds: 3600 } },
    });
    expect(limits.status).toBe(200);
    const limitedToken = () =>
      request(
        `${t.url}/oauth2/token`,
        form({
          grant_type: 'client_credentials',
          client_id: limited.body.client.clientId,
          client_secret: limited.body.client.clientSecret,
        }),
      );

    const preAuthRef = await pendingDelivery();

    // Traffic: writers creating Patients, each with an identifier of its own, while Redis stops.
    const acknowledged: string[] = [];
    const statuses = new Set<number>();
    let writing = true;
    const writer = async () => {
      while (writing) {
        const value = randomUUID();
        const res = await request(patients(), {
          method: 'POST',
          token,
          json: { resourceType: 'Patient', identifier: [{ system: 'urn:test:fault', value }] },
        });
        statuses.add(res.status);
        if (res.status === 201) acknowledged.push(value);
        else expectUnavailable(res);
      }
    };
    const writers = [writer(), writer()];
    await until(async () => acknowledged.length >= 5, 'writes before the outage');
    await redis.stop();
    // The writers now meet the outage: wait until they are refused.
    await until(async () => statuses.has(503), 'a write refused during the outage');

    // Refused at once: the revocation check of an access token, a client assertion's jti.
    expectUnavailable(await request(patients(), { token }));
    const refusedAssertion = await request(`${t.url}/oauth2/token`, await assertion());
    expect(refusedAssertion.status).toBe(503);
    expect(refusedAssertion.body).toMatchObject({ error: expect.any(String) });
    // Degraded: a client secret still gets tokens, within the project's limit counted by this instance.
    expect((await limitedToken()).status).toBe(200);
    expect((await limitedToken()).status).toBe(200);
    expect((await limitedToken()).status).toBe(429);
    // Probes: alive; health says what is down.
    expect((await request(`${t.url}/livez`)).status).toBe(200);
    const health = await request(`${t.url}/healthcheck`);
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ redis: 'error' });

    await redis.start();
    await until(async () => (await request(patients(), { token })).status === 200, 'the API to serve again');
    writing = false;
    await Promise.all(writers);
    expect([...statuses].sort()).toEqual([201, 503]);

    // Nothing acknowledged was lost.
    for (const value of acknowledged) {
      const found = await request<Bundle>(`${patients()}?identifier=urn:test:fault|${value}`, { token });
      expect(found.body.total ?? found.body.entry?.length, value).toBe(1);
    }
    // Markers set before the outage are still in force.
    expect((await request(patients(), { token: revoked })).status).toBe(401);
    expect((await request(`${t.url}/oauth2/token`, usedAssertion)).status).toBe(401);
    // The delivery queued before the outage is sent after it.
    receiver.fail('/fault-hook', 0);
    await receiver.waitFor((r) => r.path === '/fault-hook' && r.status === 200 && preAuthRefOf(r) === preAuthRef);
  });
});

function preAuthRefOf(r: Received): string | undefined {
  const inner = (r.body as Bundle).entry?.[1]?.resource as Bundle | undefined;
  return (inner?.entry?.[0]?.resource as ClaimResponse | undefined)?.preAuthRef;
}

/** A PAS decision whose notification the partner refuses (so it waits in the queue, in Redis); its preAuthRef. */
async function pendingDelivery(): Promise<string> {
  const fhir = `${t.url}/fhir/R4`;
  const settings = await request(`${t.url}/admin/projects/${t.demo.projectId}/settings`, {
    method: 'PUT',
    token: admin,
    json: { allowedBaseUrls: [receiver.url] },
  });
  expect(settings.status).toBe(200);
  const subscription = await request(`${fhir}/Subscription`, {
    method: 'POST',
    token,
    json: {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'faults',
      criteria: 'http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic',
      _criteria: {
        extension: [
          {
            url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria',
            valueString: 'org-identifier=GHC',
          },
        ],
      },
      channel: { type: 'rest-hook', endpoint: `${receiver.url}/fault-hook`, payload: 'application/fhir+json' },
    },
  });
  expect(subscription.status, JSON.stringify(subscription.body)).toBe(201);
  const submitted = await request<Bundle>(`${fhir}/Claim/$submit`, {
    method: 'POST',
    token,
    json: requestWith({ withoutDocuments: true, identifier: `fault-${randomUUID()}` }),
  });
  expect(itemResults(submitted.body).map((i) => i.code)).toEqual(['A4']);
  const cr = submitted.body.entry?.[0]?.resource as ClaimResponse;
  receiver.fail('/fault-hook', Number.POSITIVE_INFINITY);
  const decided = await request(`${fhir}/ClaimResponse/${cr.id}/$decide`, {
    method: 'POST',
    token: await demoClientToken(t, 'admin'),
    json: { items: [{ sequence: 1, action: 'A1' }] },
  });
  expect(decided.status).toBe(200);
  await receiver.waitFor((r) => r.path === '/fault-hook' && r.status === 503 && preAuthRefOf(r) === cr.preAuthRef);
  return cr.preAuthRef as string;
}
