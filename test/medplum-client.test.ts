/**
 * Medplum's own client against Hookbot: client credentials sent both in HTTP Basic and in the body, the token
 * response's `profile` and `project`, and `GET /auth/me` in the session shape `MedplumClient` reads, while keeping
 * the fields Hookbot's CLI reads.
 */
import { MedplumClient } from '@medplum/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth as basic, form, getToken, request } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.stop());

const tokenRequest = (fields: Record<string, string>, authorization?: string) =>
  request(
    `${t.url}/oauth2/token`,
    form({ grant_type: 'client_credentials', ...fields }, authorization ? { Authorization: authorization } : {}),
  );

describe('client credentials in HTTP Basic and in the body', () => {
  it('accepts the same pair presented twice', async () => {
    const { clientId, clientSecret } = t.demo;
    const res = await tokenRequest({ client_id: clientId, client_secret: clientSecret }, basic(clientId, clientSecret));
    expect(res.status).toBe(200);
  });

  it('refuses a body that differs from HTTP Basic (invalid_request), secret or client id', async () => {
    const { clientId, clientSecret } = t.demo;
    const bodies: Record<string, string>[] = [
      { client_id: clientId, client_secret: `${clientSecret}x` },
      { client_secret: `${clientSecret}x` },
      { client_id: t.admin.clientId, client_secret: clientSecret },
      { client_id: t.admin.clientId },
    ];
    for (const body of bodies) {
      const res = await tokenRequest(body, basic(clientId, clientSecret));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request' });
    }
  });
});

describe('token response and /auth/me', () => {
  it('names the client as the profile and its project', async () => {
    const res = await tokenRequest({ client_id: t.demo.clientId, client_secret: t.demo.clientSecret });
    expect(res.body).toMatchObject({
      profile: { reference: `ClientApplication/${t.demo.clientId}` },
      project: { reference: `Project/${t.demo.projectId}` },
    });
  });

  it('answers the CLI fields and a Medplum session', async () => {
    const token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const me = await request(`${t.url}/auth/me`, { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      clientId: t.demo.clientId,
      projectId: t.demo.projectId,
      role: 'admin',
      scope: 'system/*.cruds',
      admin: false,
      project: { resourceType: 'Project', id: t.demo.projectId },
      profile: { resourceType: 'ClientApplication', id: t.demo.clientId },
      membership: {
        resourceType: 'ProjectMembership',
        project: { reference: `Project/${t.demo.projectId}` },
        profile: { reference: `ClientApplication/${t.demo.clientId}` },
        admin: true,
      },
      config: { resourceType: 'UserConfiguration' },
      accessPolicy: { resourceType: 'AccessPolicy', resource: [{ resourceType: '*' }] },
    });
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const adminMe = await request(`${t.url}/auth/me`, { token: admin });
    expect(adminMe.body).toMatchObject({ clientId: t.admin.clientId, admin: true });
    expect(adminMe.body).not.toHaveProperty('projectId');
  });
});

describe('MedplumClient', () => {
  it('logs in with client credentials (Basic and body) and knows its profile and project', async () => {
    const medplum = new MedplumClient({ baseUrl: `${t.url}/`, fetch: globalThis.fetch.bind(globalThis) });
    medplum.setBasicAuth(t.demo.clientId, t.demo.clientSecret);
    const profile = await medplum.startClientLogin(t.demo.clientId, t.demo.clientSecret);
    expect(profile).toMatchObject({ resourceType: 'ClientApplication', id: t.demo.clientId });
    expect(medplum.getProfile()).toMatchObject({ id: t.demo.clientId });
    expect(medplum.getProject()).toMatchObject({ id: t.demo.projectId });
    expect(medplum.isProjectAdmin()).toBe(true);
    const bundle = await medplum.search('Patient');
    expect(bundle.resourceType).toBe('Bundle');
  });
});
