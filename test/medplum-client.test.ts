/**
 * Medplum's own client against Hookbot: client credentials sent both in HTTP Basic and in the body, the token
 * response's `profile` and `project`, and `GET /auth/me` in the session shape `MedplumClient` reads, while keeping
 * the fields Hookbot's CLI reads; then a bot developer's script: create, upload, deploy, execute by id and by
 * identifier, search, and errors read with Medplum's own outcome helpers. (`getCdsServices` / `callCdsService` are in
 * neither the installed `@medplum/core` nor the one `@medplum/cli` pins.)
 */
import { getStatus, isGone, isNotFound, isOk, MedplumClient, OperationOutcomeError, type WithId } from '@medplum/core';
import type { Bot, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth as basic, form, getToken, request } from './support/http.js';
import { startTestServer, type Credentials, type TestServer } from './support/server.js';

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

/** What a failed MedplumClient call threw: its OperationOutcome. */
async function outcomeOf(call: Promise<unknown>): Promise<OperationOutcome> {
  const error = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(OperationOutcomeError);
  return (error as OperationOutcomeError).outcome;
}

describe('a MedplumClient script', () => {
  const identifier = { system: 'https://payer.example/bots', value: 'greeter' };
  let medplum: MedplumClient;
  let bot: WithId<Bot>;

  beforeAll(async () => {
    medplum = new MedplumClient({ baseUrl: `${t.url}/`, fetch: globalThis.fetch.bind(globalThis) });
    await medplum.startClientLogin(t.demo.clientId, t.demo.clientSecret);
    bot = await medplum.createResource<Bot>({ resourceType: 'Bot', name: 'greeter', identifier: [identifier] });
  });

  it('uploads a file as a Binary and downloads it unchanged, in its own media type', async () => {
    const attachment = await medplum.createAttachment({
      data: 'export const x = 1;\n',
      contentType: 'text/typescript',
      filename: 'x.ts',
    });
    expect(attachment).toMatchObject({ contentType: 'text/typescript', url: expect.stringMatching(/^Binary\//) });
    const blob = await medplum.download(attachment.url as string);
    expect(blob.type).toBe('text/typescript');
    expect(await blob.text()).toBe('export const x = 1;\n');
    const bytes = await medplum.createBinary({
      data: new Uint8Array([0, 255, 1]),
      contentType: 'application/octet-stream',
    });
    const read = await medplum.readResource('Binary', bytes.id);
    expect(read).toMatchObject({
      contentType: 'application/octet-stream',
      data: Buffer.from([0, 255, 1]).toString('base64'),
    });
  });

  it('deploys (an OperationOutcome, ok) and executes by id and by identifier', async () => {
    const outcome = (await medplum.post(medplum.fhirUrl('Bot', bot.id, '$deploy'), {
      code: "exports.handler = async (medplum, event) => 'hello ' + event.input.name;",
    })) as OperationOutcome;
    expect(outcome).toMatchObject({ resourceType: 'OperationOutcome', id: 'ok' });
    expect(isOk(outcome)).toBe(true);
    expect(await medplum.executeBot(bot.id, { name: 'by id' })).toBe('hello by id');
    expect(await medplum.executeBot(identifier, { name: 'by identifier' })).toBe('hello by identifier');
    const found = await medplum.searchResources('Bot', { identifier: `${identifier.system}|${identifier.value}` });
    expect(found.map((b) => b.id)).toEqual([bot.id]);
  });

  it('reads errors with isNotFound, isGone and getStatus; an ambiguous identifier is a 400', async () => {
    const missing = await outcomeOf(medplum.executeBot({ system: identifier.system, value: 'nobody' }, {}));
    expect(isNotFound(missing)).toBe(true);
    const patient = await medplum.createResource<Patient>({ resourceType: 'Patient' });
    await medplum.deleteResource('Patient', patient.id);
    const gone = await outcomeOf(medplum.readResource('Patient', patient.id));
    expect(isGone(gone)).toBe(true);
    expect(getStatus(gone)).toBe(410);

    await medplum.createResource<Bot>({ resourceType: 'Bot', name: 'twin', identifier: [identifier] });
    const ambiguous = await outcomeOf(medplum.executeBot(identifier, {}));
    expect(getStatus(ambiguous)).toBe(400);
    expect(ambiguous.issue?.[0]).toMatchObject({ code: 'multiple-matches' });
  });

  it('executes by identifier only within its own project', async () => {
    const other = await request<{ client: { clientId: string; clientSecret: string } }>(`${t.url}/admin/projects`, {
      method: 'POST',
      token: await getToken(t.url, t.admin.clientId, t.admin.clientSecret),
      json: { name: 'medplum-client other payer' },
    });
    const elsewhere = new MedplumClient({ baseUrl: `${t.url}/`, fetch: globalThis.fetch.bind(globalThis) });
    await elsewhere.startClientLogin(other.body.client.clientId, other.body.client.clientSecret);
    expect(isNotFound(await outcomeOf(elsewhere.executeBot({ ...identifier, value: 'greeter' }, {})))).toBe(true);
  });
});

describe('Binary as raw data', () => {
  const upload = (token: string, body: Uint8Array | string, type = 'application/octet-stream') =>
    fetch(`${t.url}/fhir/R4/Binary`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': type },
      body,
    });

  it('is bounded by HOOKBOT_MAX_BODY (413), kept within its tenant, and written only with Binary create scope', async () => {
    const demo = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const tooLarge = await upload(demo, new Uint8Array(t.server.services.config.maxBodyBytes + 1));
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ issue: [{ code: 'too-costly' }] });

    const created = await upload(demo, 'a,b\n1,2\n', 'text/csv');
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const read = (token: string) =>
      fetch(`${t.url}/fhir/R4/Binary/${id}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/csv' } });
    const own = await read(demo);
    expect([own.status, own.headers.get('content-type'), own.headers.get('content-disposition')]).toEqual([
      200,
      'text/csv',
      'attachment',
    ]);
    expect(await own.text()).toBe('a,b\n1,2\n');
    // PUT in a media type replaces the bytes (or creates the Binary at a new id).
    for (const [target, status] of [
      [id, 200],
      ['chosen-binary', 201],
    ] as const) {
      const put = await fetch(`${t.url}/fhir/R4/Binary/${target}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${demo}`, 'Content-Type': 'image/png' },
        body: new Uint8Array([137, 80, 78, 71]),
      });
      expect(put.status).toBe(status);
      expect(await put.json()).toMatchObject({ id: target, contentType: 'image/png', url: `Binary/${target}` });
    }
    const replaced = await read(demo);
    expect(replaced.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await replaced.arrayBuffer())).toEqual(Buffer.from([137, 80, 78, 71]));

    const superAdmin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const other = await request<{ client: Credentials }>(`${t.url}/admin/projects`, {
      method: 'POST',
      token: superAdmin,
      json: { name: 'binary other payer' },
    });
    expect((await read(await getToken(t.url, other.body.client.clientId, other.body.client.clientSecret))).status).toBe(
      404,
    );

    const register = (scope: string) =>
      request<Credentials>(`${t.url}/admin/projects/${t.demo.projectId}/clients`, {
        method: 'POST',
        token: superAdmin,
        json: { name: `binary ${scope}`, role: 'bot-developer', scope },
      });
    const tokenOf = async (scope: string) => {
      const client = (await register(scope)).body;
      return getToken(t.url, client.clientId, client.clientSecret);
    };
    // The bot developer's default scope holds Binary.c (and reads everything); a read-only one may not upload.
    const developer = await tokenOf('system/Bot.cruds system/Binary.c system/*.rs');
    expect((await upload(developer, 'export {};', 'text/typescript')).status).toBe(201);
    expect((await read(developer)).status).toBe(200);
    const reader = await tokenOf('system/*.rs');
    const refused = await upload(reader, 'export {};', 'text/typescript');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ id: 'forbidden', issue: [{ code: 'forbidden' }] });
  });
});
