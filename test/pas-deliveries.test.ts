/**
 * Deliveries of PAS decisions end to end, on PGlite (table queue) and on PostgreSQL + Redis (BullMQ): a rest-hook
 * Subscription (handshake, `channel.header`, notifications carrying the PAS response Bundle), a partner callback
 * with an OAuth2 token from the partner's token endpoint (cached, refreshed on 401), retries with backoff, and a
 * delivery that is pending when the server stops arriving after it starts again.
 */
import type { Bundle, ClaimResponse, OperationOutcome, Parameters, Subscription } from '@medplum/fhirtypes';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import { demoClientToken, itemResults, PAS_STORES, requestWith } from './support/pas.js';
import { startReceiver, type Receiver, type Received } from './support/receiver.js';
import { Redis } from 'ioredis';
import { startTestServer, TEST_REDIS_URL, type TestServer } from './support/server.js';
import { pendInterrupted } from '@hookbot/server/testing';

const PARTNER = { id: 'partner-app', secret: 's3cret-partner' };
const TOPIC = 'http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic';

/** A PAS Subscription (rest-hook, filtered on `org`) to `endpoint`. */
function pasSubscription(endpoint: string, org = 'PARTNER-ORG'): Subscription {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'PAS results',
    criteria: TOPIC,
    _criteria: {
      extension: [
        {
          url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria',
          valueString: `org-identifier=${org}`,
        },
      ],
    },
    channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' },
  } as Subscription;
}

/** The PAS response Bundle a notification or callback carries, and its ClaimResponse. */
function responseIn(r: Received): ClaimResponse | undefined {
  const body = r.body as Bundle;
  const inner = body?.type === 'history' ? (body.entry?.[1]?.resource as Bundle | undefined) : body;
  return inner?.entry?.[0]?.resource as ClaimResponse | undefined;
}

describe.each(PAS_STORES)('PAS deliveries on $store', ({ store, redis }) => {
  let t: TestServer;
  let receiver: Receiver;
  let token: string;
  let reviewerToken: string;
  const fhir = (server = t) => `${server.url}/fhir/R4`;

  async function pended(identifier: string): Promise<ClaimResponse> {
    const res = await request<Bundle>(`${fhir()}/Claim/$submit`, {
      method: 'POST',
      token,
      json: requestWith({ withoutDocuments: true, identifier }),
    });
    expect(itemResults(res.body).map((i) => i.code)).toEqual(['A4']);
    return res.body.entry?.[0]?.resource as ClaimResponse;
  }

  const decide = (cr: ClaimResponse) =>
    request(`${fhir()}/ClaimResponse/${cr.id}/$decide`, {
      method: 'POST',
      token: reviewerToken,
      json: { items: [{ sequence: 1, action: 'A1' }] },
    });

  const deliveriesOf = (path: string, cr: ClaimResponse) =>
    receiver.received.filter((r) => r.path === path && responseIn(r)?.preAuthRef === cr.preAuthRef);

  beforeAll(async () => {
    receiver = await startReceiver(PARTNER);
    t = await startTestServer({
      store,
      redis,
      env: {
        NODE_ENV: 'development',
        HOOKBOT_DELIVERY_BACKOFF_MS: '100',
        HOOKBOT_DELIVERY_POLL_MS: '50',
        HOOKBOT_MAX_SUBSCRIPTIONS_PER_CLIENT: '2',
      },
    });
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const settings = await request(`${t.url}/admin/projects/${t.demo.projectId}/settings`, {
      method: 'PUT',
      token: admin,
      json: { allowedBaseUrls: [receiver.url] },
    });
    expect(settings.status).toBe(200);
    token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    reviewerToken = await clientOf('admin');
  });

  const clientOf = (role: string) => demoClientToken(t, role);
  afterAll(async () => {
    await t?.stop();
    await receiver?.close();
  });

  it('refuses a Subscription endpoint the SSRF guard refuses', async () => {
    const res = await request<OperationOutcome>(`${fhir()}/Subscription`, {
      method: 'POST',
      token,
      json: {
        resourceType: 'Subscription',
        status: 'requested',
        reason: 'PAS',
        criteria: TOPIC,
        _criteria: {
          extension: [
            {
              url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria',
              valueString: 'org-identifier=GHC',
            },
          ],
        },
        channel: {
          type: 'rest-hook',
          endpoint: 'http://169.254.169.254/latest/meta-data',
          payload: 'application/fhir+json',
        },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.issue[0]?.code).toBe('security');
  });

  it('hands shake with a new Subscription, then notifies A1 after $submit-attachment; the callback gets it with an OAuth2 token', async () => {
    const created = await request<Subscription>(`${fhir()}/Subscription`, {
      method: 'POST',
      token,
      json: {
        resourceType: 'Subscription',
        status: 'requested',
        reason: 'PAS results for Good Health Clinics',
        criteria: TOPIC,
        _criteria: {
          extension: [
            {
              url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria',
              valueString: 'orgIdentifier=GHC',
            },
          ],
        },
        channel: {
          type: 'rest-hook',
          endpoint: `${receiver.url}/hook`,
          payload: 'application/fhir+json',
          _payload: {
            extension: [
              {
                url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content',
                valueCode: 'full-resource',
              },
            ],
          },
          header: ['Authorization: Bearer notification-secret'],
        },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.status).toBe('active');
    const handshake = await receiver.waitFor((r) => r.path === '/hook');
    expect((handshake.body as Bundle).type).toBe('history');
    expect(JSON.stringify(handshake.body)).toContain('"valueCode":"handshake"');
    expect(handshake.headers.authorization).toBe('Bearer notification-secret');

    const callback = await request<Record<string, unknown>>(`${fhir()}/$pas-callback`, {
      method: 'POST',
      token,
      json: {
        url: `${receiver.url}/callback`,
        tokenUrl: `${receiver.url}/token`,
        clientId: PARTNER.id,
        clientSecret: PARTNER.secret,
      },
    });
    expect(callback.status, JSON.stringify(callback.body)).toBe(200);
    expect(JSON.stringify(callback.body)).not.toContain(PARTNER.secret);

    const cr = await pended(`deliver-1-${store}`);
    const attached = await request(`${fhir()}/$submit-attachment`, {
      method: 'POST',
      token,
      json: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'TrackingId', valueIdentifier: { system: 'urn:test:claim', value: `deliver-1-${store}` } },
          { name: 'AttachTo', valueCode: 'preauthorization' },
          { name: 'MemberId', valueIdentifier: { value: 'M2346623' } },
          {
            name: 'Attachment',
            part: [
              { name: 'Content', resource: { resourceType: 'Binary', contentType: 'text/plain', data: 'bm90ZQ==' } },
            ],
          },
        ],
      },
    });
    expect(attached.status).toBe(200);

    const notified = await receiver.waitFor(
      (r) => r.path === '/hook' && r.status === 200 && responseIn(r)?.preAuthRef === cr.preAuthRef,
    );
    expect(notified.headers.authorization).toBe('Bearer notification-secret');
    const history = notified.body as Bundle;
    const status = history.entry?.[0]?.resource as Parameters;
    const focus = status.parameter?.find((p) => p.name === 'notification-event')?.part?.find((p) => p.name === 'focus')
      ?.valueReference?.reference;
    expect(focus).toBe(history.entry?.[1]?.fullUrl);
    expect(itemResults(history.entry?.[1]?.resource as Bundle).map((i) => i.code)).toEqual(['A1']);

    const delivered = await receiver.waitFor(
      (r) => r.path === '/callback' && r.status === 200 && responseIn(r)?.preAuthRef === cr.preAuthRef,
    );
    expect(delivered.headers.authorization).toBe('Bearer tok-1');
    expect(itemResults(delivered.body as Bundle).map((i) => i.code)).toEqual(['A1']);
    if (redis) {
      // On Redis the jobs are BullMQ's.
      const client = new Redis(TEST_REDIS_URL);
      try {
        expect(await client.keys(`${t.env.HOOKBOT_REDIS_PREFIX}bull:pas-deliveries:*`)).not.toEqual([]);
      } finally {
        client.disconnect();
      }
    }
  });

  it('keeps the token until it is refused, then gets a new one', async () => {
    expect(receiver.tokens).toEqual(['tok-1']);
    receiver.revokeTokens();
    const cr = await pended(`deliver-2-${store}`);
    expect((await decide(cr)).status).toBe(200);
    const delivered = await receiver.waitFor(
      (r) => r.path === '/callback' && r.status === 200 && responseIn(r)?.preAuthRef === cr.preAuthRef,
    );
    expect(delivered.headers.authorization).toBe('Bearer tok-2');
    expect(deliveriesOf('/callback', cr).map((r) => r.status)).toEqual([401, 200]);
  });

  it('gets a new token after the callback is registered again, never the one cached for the old registration', async () => {
    const issued = receiver.tokens.length;
    const again = await request(`${fhir()}/$pas-callback`, {
      method: 'POST',
      token,
      json: {
        url: `${receiver.url}/callback`,
        tokenUrl: `${receiver.url}/token?registration=2`,
        clientId: PARTNER.id,
        clientSecret: PARTNER.secret,
      },
    });
    expect(again.status).toBe(200);
    const cr = await pended(`deliver-reregistered-${store}`);
    expect((await decide(cr)).status).toBe(200);
    const delivered = await receiver.waitFor(
      (r) => r.path === '/callback' && r.status === 200 && responseIn(r)?.preAuthRef === cr.preAuthRef,
    );
    expect(receiver.tokens).toHaveLength(issued + 1);
    expect(delivered.headers.authorization).toBe(`Bearer tok-${issued + 1}`);
  });

  it('delivers to a receiver that fails twice on the third try, and shows the failures', async () => {
    const cr = await pended(`deliver-3-${store}`);
    receiver.fail('/hook', 2);
    expect((await decide(cr)).status).toBe(200);
    await receiver.waitFor(
      (r) => r.path === '/hook' && r.status === 200 && responseIn(r)?.preAuthRef === cr.preAuthRef,
    );
    expect(deliveriesOf('/hook', cr).map((r) => r.status)).toEqual([503, 503, 200]);
    const subs = await request<Bundle>(`${fhir()}/Subscription`, { token });
    const sub = subs.body.entry?.[0]?.resource as Subscription;
    const status = await request<Parameters>(`${fhir()}/Subscription/${sub.id}/$status`, { token });
    expect(
      Number(status.body.parameter?.find((p) => p.name === 'delivery-failures')?.valueString),
    ).toBeGreaterThanOrEqual(2);
    const audits = await request<Bundle>(`${fhir()}/AuditEvent?type=delivery&entity=Subscription/${sub.id}`, { token });
    const outcomes = (audits.body.entry ?? []).map((e) => (e.resource as { outcome?: string }).outcome);
    expect(outcomes.filter((o) => o === '8').length).toBeGreaterThanOrEqual(2);
  });

  it('sends nothing more to a Subscription switched off through the FHIR API', async () => {
    const subs = await request<Bundle>(`${fhir()}/Subscription`, { token });
    const sub = subs.body.entry?.[0]?.resource as Subscription;
    const put = (status: Subscription['status']) =>
      request(`${fhir()}/Subscription/${sub.id}`, { method: 'PUT', token, json: { ...sub, meta: undefined, status } });
    expect((await put('off')).status).toBe(200);
    const cr = await pended(`deliver-off-${store}`);
    expect((await decide(cr)).status).toBe(200);
    // The callback gets the decision; the switched-off Subscription does not.
    await receiver.waitFor(
      (r) => r.path === '/callback' && r.status === 200 && responseIn(r)?.preAuthRef === cr.preAuthRef,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(deliveriesOf('/hook', cr)).toEqual([]);
    expect((await put('active')).status).toBe(200);
  });

  it('lets a partner subscribe and see the status of its own Subscriptions, and nothing else of the FHIR API', async () => {
    const partner = await clientOf('partner');
    const created = await request<Subscription>(`${fhir()}/Subscription`, {
      method: 'POST',
      token: partner,
      json: {
        resourceType: 'Subscription',
        status: 'requested',
        reason: 'PAS results for a partner',
        criteria: TOPIC,
        _criteria: {
          extension: [
            {
              url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria',
              valueString: 'org-identifier=PARTNER-ORG',
            },
          ],
        },
        channel: { type: 'rest-hook', endpoint: `${receiver.url}/partner-hook`, payload: 'application/fhir+json' },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const status = (token: string) =>
      request<Parameters>(`${fhir()}/Subscription/${created.body.id}/$status`, { token });
    expect((await status(partner)).status).toBe(200);
    // Another partner of the same payer does not see it; the payer's administrator does.
    expect((await status(await clientOf('partner'))).status).toBe(404);
    expect((await status(token)).status).toBe(200);
    // The Subscription itself is reached through the FHIR API, which a partner has not.
    const put = await request(`${fhir()}/Subscription/${created.body.id}`, {
      method: 'PUT',
      token: partner,
      json: { ...created.body, meta: undefined, status: 'off' },
    });
    expect(put.status).toBe(403);
    const ehr = await request(`${fhir()}/$pas-callback`, {
      method: 'POST',
      token: await clientOf('ehr'),
      json: { url: `${receiver.url}/cb`, tokenUrl: `${receiver.url}/token`, clientId: 'x', clientSecret: 'y' },
    });
    expect(ehr.status).toBe(403);
  });

  it('tells the partner only "connection refused" when the handshake fails, not the address it connected to', async () => {
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const settings = (allowedBaseUrls: string[]) =>
      request(`${t.url}/admin/projects/${t.demo.projectId}/settings`, {
        method: 'PUT',
        token: admin,
        json: { allowedBaseUrls },
      });
    expect((await settings([receiver.url, closedUrl])).status).toBe(200);
    try {
      const created = await request<Subscription>(`${fhir()}/Subscription`, {
        method: 'POST',
        token: await clientOf('partner'),
        json: pasSubscription(`${closedUrl}/hook`),
      });
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('error');
      expect(created.body.error).toBe('The handshake to the endpoint failed: connection refused');
    } finally {
      await settings([receiver.url]);
    }
  });

  it("caps a client's PAS Subscriptions with a 422, and frees a place when the payer deletes one", async () => {
    const partner = await clientOf('partner');
    const subscribe = () =>
      request<Subscription | OperationOutcome>(`${fhir()}/Subscription`, {
        method: 'POST',
        token: partner,
        json: pasSubscription(`${receiver.url}/capped`),
      });
    const first = await subscribe();
    expect(first.status).toBe(201);
    expect((await subscribe()).status).toBe(201);
    const refused = await subscribe();
    expect(refused.status).toBe(422);
    expect(refused.body.resourceType).toBe('OperationOutcome');
    expect((refused.body as OperationOutcome).issue[0]?.diagnostics).toMatch(/at most 2 PAS Subscriptions/);
    const deleted = await request(`${fhir()}/Subscription/${(first.body as Subscription).id}`, {
      method: 'DELETE',
      token,
    });
    expect(deleted.status).toBeLessThan(300);
    expect((await subscribe()).status).toBe(201);
  });

  it('sends a delivery that was pending when the server stopped after it starts again', async () => {
    const cr = await pended(`deliver-4-${store}`);
    receiver.fail('/hook', Number.POSITIVE_INFINITY);
    expect((await decide(cr)).status).toBe(200);
    await receiver.waitFor(
      (r) => r.path === '/hook' && r.status === 503 && responseIn(r)?.preAuthRef === cr.preAuthRef,
    );
    await t.server.stop();
    receiver.fail('/hook', 0);
    const restarted = await startTestServer({ dataDir: t.dataDir, env: t.env });
    try {
      await receiver.waitFor(
        (r) => r.path === '/hook' && r.status === 200 && responseIn(r)?.preAuthRef === cr.preAuthRef,
        20_000,
      );
    } finally {
      await restarted.stop();
    }
  });
  it('pends a request whose decision was interrupted once a server starts, and notifies its submitter once', async () => {
    // The restart test above stopped the server: this one starts the deployment again, on the same data.
    const again = () => startTestServer({ dataDir: t.dataDir, env: t.env });
    const interrupt = (server: TestServer, preAuthRef: string) =>
      server.server.services.db.query(
        `UPDATE pas_authorizations SET status = 'received', decision = NULL, response_bundle = NULL,
           updated_at = now() - interval '1 hour' WHERE pre_auth_ref = $1`,
        [preAuthRef],
      );
    const first = await again();
    let stuck: ClaimResponse;
    try {
      stuck = await pended(`deliver-stuck-${store}`);
      await interrupt(first, stuck.preAuthRef as string);
    } finally {
      await first.stop();
    }
    const second = await again();
    try {
      const notified = await receiver.waitFor(
        (r) =>
          r.path === '/hook' &&
          responseIn(r)?.preAuthRef === stuck.preAuthRef &&
          JSON.stringify(responseIn(r)?.processNote).includes('interrupted'),
      );
      expect(itemResults((notified.body as Bundle).entry?.[1]?.resource as Bundle).map((i) => i.code)).toEqual(['A4']);
      const { db } = second.server.services;
      const status = async () =>
        (
          await db.query<{ status: string }>('SELECT status FROM pas_authorizations WHERE pre_auth_ref = $1', [
            stuck.preAuthRef,
          ])
        ).rows[0]?.status;
      expect(await status()).toBe('pended');
      // Two sweeps at once (two instances): one records it.
      await interrupt(second, stuck.preAuthRef as string);
      const counts = await Promise.all([1, 2].map(() => pendInterrupted(second.server.services, 60_000)));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
      expect(await status()).toBe('pended');
      // A request interrupted only a moment ago is left alone (its server may still be deciding it).
      await db.query(`UPDATE pas_authorizations SET status = 'received', updated_at = now() WHERE pre_auth_ref = $1`, [
        stuck.preAuthRef,
      ]);
      expect(await pendInterrupted(second.server.services, 60_000)).toBe(0);
    } finally {
      await second.stop();
    }
  });
});
