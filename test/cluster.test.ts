/**
 * Two server instances of one deployment (PostgreSQL + Redis, one base URL): what one instance changes, the
 * other serves at once, although it cached the old state on its warm path (Bot, compiled code, a rule set's
 * version, settings, the clients of a JWT issuer). Invalidation travels over Redis pub/sub, so the checks poll for up
 * to 3 s. What the instances share through Redis without caching it is checked without polling: a `jti` used on one
 * is refused on the other, and a project's rate limit is one budget. A PAS decision's delivery, queued on one with
 * both instances' workers running, reaches the partner once.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Bundle, ClaimResponse } from '@medplum/fhirtypes';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientView } from './support/cds.js';
import { basicAuth, form, getToken, request, type JsonResponse } from './support/http.js';
import { startServerPair } from './support/pair.js';
import { demoClientToken, itemResults, requestWith } from './support/pas.js';
import { startReceiver, type Receiver, type Received } from './support/receiver.js';
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

let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver({ id: 'partner', secret: 'unused' });
  ({ a, b, tokenA, tokenB, adminA } = await startServerPair(
    {
      store: 'postgres',
      redis: true,
      // Development mode lets the demo project list the loopback receiver of PAS deliveries.
      env: { NODE_ENV: 'development', HOOKBOT_DELIVERY_BACKOFF_MS: '100' },
    },
    { store: 'postgres', redis: true },
  ));
}, 120_000);

afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await receiver?.close();
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

  it('serve a rule set redeployed or rolled back on either instance, although the other had it warm', async () => {
    const text = await readFile(path.join(import.meta.dirname, '../examples/rules/crd-prior-auth.json'), 'utf8');
    const version = (label: string) => {
      const doc = JSON.parse(text.replaceAll('Prior authorization needed for CPT', `${label}: CPT`)) as Record<
        string,
        unknown
      >;
      // Its inline tests expect the example's summaries; this copy is only served.
      return { ...doc, id: 'cluster-pa', title: 'Cluster PA', tests: undefined };
    };
    const deploy = (label: string) =>
      request<{ bot: { id: string }; version: string }>(`${a.url}/fhir/R4/Bot/$deploy-rules`, {
        method: 'POST',
        token: tokenA,
        json: { ruleSet: version(label) },
      });
    const orderSign = JSON.parse(
      await readFile(path.join(import.meta.dirname, '../examples/requests/order-sign-cpt-93456-grp2245.json'), 'utf8'),
    ) as unknown;
    const served = async (id: string) => {
      const res = await request<{ cards?: { summary: string }[] }>(`${b.url}/cds-services/${id}`, {
        method: 'POST',
        token: tokenB,
        json: orderSign,
      });
      return res.status === 200 ? res.body.cards?.map((c) => c.summary.split(':')[0]).join() : `HTTP ${res.status}`;
    };

    const first = await deploy('v1');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const id = first.body.bot.id;
    await expect.poll(() => served(id), poll).toBe('v1');
    const second = await deploy('v2');
    expect(second.status).toBe(200);
    await expect.poll(() => served(id), poll).toBe('v2');
    const rolledBack = await request(`${a.url}/fhir/R4/Bot/${id}/$rollback`, {
      method: 'POST',
      token: tokenA,
      json: { version: first.body.version },
    });
    expect(rolledBack.status).toBe(200);
    await expect.poll(() => served(id), poll).toBe('v1');
  });

  it("refuse a client assertion's or a CDS client JWT's jti on the other instance once it was used on one", async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES384');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' };
    const issuer = `https://backend.example.org/${randomUUID()}`;
    const created = await request<{ clientId: string }>(`${a.url}/admin/projects/${a.demo.projectId}/clients`, {
      method: 'POST',
      token: adminA,
      json: { name: 'backend service', role: 'admin', issuer, jwks: { keys: [jwk] } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { clientId } = created.body;
    const baseUrl = a.server.services.config.baseUrl;
    const signed = (claims: { iss: string; sub?: string; aud: string }) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES384', kid: 'k1', typ: 'JWT' })
        .setIssuer(claims.iss)
        .setAudience(claims.aud)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('5m')
        .setSubject(claims.sub ?? claims.iss)
        .sign(privateKey);

    // private_key_jwt at the token endpoint: used on a, replayed on b.
    const assertion = await signed({ iss: clientId, aud: `${baseUrl}/oauth2/token` });
    const fields = {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    };
    expect((await request(`${a.url}/oauth2/token`, form(fields))).status).toBe(200);
    const replayed = await request(`${b.url}/oauth2/token`, form(fields));
    expect(replayed.status).toBe(401);
    expect(replayed.body.error).toBe('invalid_client');

    // A CDS client JWT: used on b, replayed on a.
    const jwt = await signed({ iss: issuer, aud: `${baseUrl}/cds-services` });
    await expect.poll(async () => (await request(`${b.url}/cds-services`, { token: jwt })).status, poll).toBe(200);
    const again = await request(`${a.url}/cds-services`, { token: jwt });
    expect(again.status).toBe(401);
    expect(JSON.stringify(again.body)).toContain('auth.replayed-client-jwt');
  });

  it("share a project's rate limit: half of it spent on each instance, the next call is refused on both", async () => {
    const created = await request<{ project: { id: string }; client: { clientId: string; clientSecret: string } }>(
      `${a.url}/admin/projects`,
      { method: 'POST', token: adminA, json: { name: `limited-${randomUUID()}` } },
    );
    expect(created.status).toBe(201);
    const { project, client } = created.body;
    const limit = 6;
    const set = await request(`${a.url}/admin/projects/${project.id}/settings`, {
      method: 'PUT',
      token: adminA,
      json: { rateLimits: { perClient: limit, windowSeconds: 3600 } },
    });
    expect(set.status).toBe(200);
    const token = await getToken(b.url, client.clientId, client.clientSecret);
    const call = (server: TestServer) => request(`${server.url}/fhir/R4/Patient`, { token });
    // b may hold the project's settings from the token request until the change reaches it (no call is counted).
    await expect
      .poll(async () => (await b.server.services.settings.get(project.id)).rateLimits?.perClient, poll)
      .toBe(limit);
    for (let i = 0; i < limit; i += 1) expect((await call(i % 2 === 0 ? a : b)).status, `call ${i + 1}`).toBe(200);
    for (const server of [a, b]) {
      const refused = await call(server);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBeTruthy();
    }
  });

  it('deliver a PAS decision queued on one instance once, with both instances running their delivery workers', async () => {
    const put = await request(`${a.url}/admin/projects/${a.demo.projectId}/settings`, {
      method: 'PUT',
      token: adminA,
      json: { allowedBaseUrls: [receiver.url] },
    });
    expect(put.status).toBe(200);
    await expect
      .poll(async () => (await b.server.services.settings.get(a.demo.projectId)).allowedBaseUrls, poll)
      .toEqual([receiver.url]);
    const subscription = await request(`${a.url}/fhir/R4/Subscription`, {
      method: 'POST',
      token: tokenA,
      json: {
        resourceType: 'Subscription',
        status: 'requested',
        reason: 'cluster',
        criteria: 'http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic',
        _criteria: {
          extension: [
            {
              url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria',
              valueString: 'org-identifier=GHC',
            },
          ],
        },
        channel: { type: 'rest-hook', endpoint: `${receiver.url}/cluster-hook`, payload: 'application/fhir+json' },
      },
    });
    expect(subscription.status, JSON.stringify(subscription.body)).toBe(201);
    expect(subscription.body.status).toBe('active');

    // A reviewer (not the submitter) decides; its token is honoured by both instances.
    const reviewer = await demoClientToken(a, 'admin');
    const refs: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const submitted = await request<Bundle>(`${a.url}/fhir/R4/Claim/$submit`, {
        method: 'POST',
        token: tokenA,
        json: requestWith({ withoutDocuments: true, identifier: `cluster-${randomUUID()}` }),
      });
      expect(itemResults(submitted.body).map((item) => item.code)).toEqual(['A4']);
      const cr = submitted.body.entry?.[0]?.resource as ClaimResponse;
      // Decided alternately on each instance: each queues the delivery on the shared queue.
      const decided = await request(`${(i % 2 ? b : a).url}/fhir/R4/ClaimResponse/${cr.id}/$decide`, {
        method: 'POST',
        token: reviewer,
        json: { items: [{ sequence: 1, action: 'A1' }] },
      });
      expect(decided.status).toBe(200);
      refs.push(cr.preAuthRef as string);
    }
    const preAuthRefOf = (r: Received) => {
      const history = r.body as Bundle;
      return ((history.entry?.[1]?.resource as Bundle | undefined)?.entry?.[0]?.resource as ClaimResponse | undefined)
        ?.preAuthRef;
    };
    const notified = () =>
      receiver.received.filter((r) => r.path === '/cluster-hook' && refs.includes(preAuthRefOf(r) ?? ''));
    await expect.poll(() => new Set(notified().map(preAuthRefOf)).size, { timeout: 15_000, interval: 50 }).toBe(6);
    // Once neither instance has a job waiting, retrying or being sent, nothing more can arrive.
    await expect
      .poll(async () => [await a.server.services.deliveries.depth(), await b.server.services.deliveries.depth()], {
        timeout: 15_000,
        interval: 50,
      })
      .toEqual([0, 0]);
    expect(notified().map(preAuthRefOf).sort()).toEqual([...refs].sort());
  });
});
