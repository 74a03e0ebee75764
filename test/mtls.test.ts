/**
 * Mutual TLS (RFC 8705) end to end, with a CA, a server certificate and client certificates made for the run:
 * `tls_client_auth` and `self_signed_tls_client_auth` at the token endpoint on the TLS port, certificate-bound tokens
 * refused without their certificate on FHIR, CDS, PAS and admin routes, the proxy header believed only from the
 * configured proxy, and clients that must use mutual TLS.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setClientSecret } from '@hookbot/server/testing';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { assertCliBuilt, runCli } from '../packages/cli/test-support/cli-process.js';
import { Agent, fetch as tlsFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCa,
  createClientCertificate,
  createServerCertificate,
  type TestCertificate,
} from './support/certificates.js';
import { getToken, request } from './support/http.js';
import { seedRequest } from './support/pas.js';
import { freePort } from './support/port.js';
import { startTestServer, type TestServer } from './support/server.js';

const PROXY_HEADER = 'x-client-cert';
const PARTNER_DN = 'CN=partner.example,O=Acme Health,C=US';

let t: TestServer;
let dir: string;
let ca: TestCertificate;
/** Issued by the trusted CA with the registered DN; the same DN from an untrusted CA; a self-signed one. */
let partnerCert: TestCertificate;
let foreignCert: TestCertificate;
let selfSigned: TestCertificate;
let adminToken: string;
const agents: Agent[] = [];

interface CallOptions {
  cert?: TestCertificate;
  /** The local address to connect from (the whole of 127/8 is loopback on Linux). */
  from?: string;
  token?: string;
  method?: string;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

/** A request over TLS (trusting the test CA) or plain HTTP, with an optional client certificate. */
async function call(
  url: string,
  options: CallOptions = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const dispatcher = new Agent({
    connect: { ca: ca.cert, ...(options.cert ? { cert: options.cert.cert, key: options.cert.key } : {}) },
    ...(options.from ? { localAddress: options.from } : {}),
  });
  agents.push(dispatcher);
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/fhir+json';
  }
  if (options.form) {
    body = new URLSearchParams(options.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const method = options.method ?? (body === undefined ? 'GET' : 'POST');
  const res = await tlsFetch(url, { method, headers, body, dispatcher });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const tls = () => t.server.tlsUrl as string;
const tokenForm = (clientId: string) => ({ grant_type: 'client_credentials', client_id: clientId });
const escaped = (cert: TestCertificate) => encodeURIComponent(cert.cert);

async function registerClient(
  body: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return request(`${t.url}/admin/projects/${t.demo.projectId}/clients`, {
    method: 'POST',
    token: adminToken,
    json: { name: `mtls-${Math.random()}`, role: 'admin', ...body },
  });
}

async function clientId(body: Record<string, unknown>): Promise<string> {
  const res = await registerClient(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.clientId as string;
}

/** A token from the TLS port's token endpoint, authenticated by `cert`. */
async function boundToken(id: string, cert: TestCertificate): Promise<string> {
  const res = await call(`${tls()}/oauth2/token`, { cert, form: tokenForm(id) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.access_token as string;
}

beforeAll(async () => {
  ca = await createCa();
  const server = await createServerCertificate(ca);
  partnerCert = await createClientCertificate(PARTNER_DN, ca);
  foreignCert = await createClientCertificate(PARTNER_DN, await createCa('CN=Untrusted CA'));
  selfSigned = await createClientCertificate('CN=self-signed partner');
  dir = await mkdtemp(path.join(tmpdir(), 'hookbot-mtls-'));
  await Promise.all([
    writeFile(path.join(dir, 'server.pem'), server.cert),
    writeFile(path.join(dir, 'server.key'), server.key),
    writeFile(path.join(dir, 'ca.pem'), ca.cert),
  ]);
  t = await startTestServer({
    env: {
      TLS_PORT: String(await freePort()),
      TLS_CERT: path.join(dir, 'server.pem'),
      TLS_KEY: path.join(dir, 'server.key'),
      TLS_CLIENT_CA: path.join(dir, 'ca.pem'),
      HOOKBOT_CLIENT_CERT_HEADER: PROXY_HEADER,
      HOOKBOT_CLIENT_CERT_PROXIES: '127.0.0.1, ::1',
    },
  });
  adminToken = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('discovery', () => {
  it('advertises the mTLS methods, bound tokens and the TLS port endpoints', async () => {
    const res = await request(`${t.url}/.well-known/smart-configuration`);
    const tlsBase = t.server.services.config.tls?.baseUrl;
    expect(res.body).toMatchObject({
      tls_client_certificate_bound_access_tokens: true,
      mtls_endpoint_aliases: {
        token_endpoint: `${tlsBase}/oauth2/token`,
        introspection_endpoint: `${tlsBase}/oauth2/introspect`,
        revocation_endpoint: `${tlsBase}/oauth2/revoke`,
      },
    });
    expect(res.body.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth', 'private_key_jwt']),
    );
  });
});

describe('registration', () => {
  it('takes a PEM or a thumbprint (base64url or hex), and refuses what is neither', async () => {
    const fromPem = await registerClient({ certificate: selfSigned.cert });
    expect(fromPem.body).toMatchObject({ certThumbprint: selfSigned.thumbprint });
    const hex = Buffer.from(selfSigned.thumbprint, 'base64url').toString('hex');
    expect((await registerClient({ certThumbprint: hex })).body).toMatchObject({
      certThumbprint: selfSigned.thumbprint,
    });
    const required = await registerClient({ tlsClientAuthSubjectDn: PARTNER_DN, requireMtls: true });
    expect(required.body).toMatchObject({ tlsClientAuthSubjectDn: PARTNER_DN, requireMtls: true });
    expect(required.body.clientSecret).toBeUndefined();
    for (const bad of [
      { certificate: 'not a certificate' },
      { certThumbprint: 'abc' },
      { tlsClientAuthSubjectDn: 'partner' },
      { requireMtls: true },
      { requireMtls: 'yes', certThumbprint: hex },
    ]) {
      const res = await registerClient(bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });
});

describe('tls_client_auth and self_signed_tls_client_auth', () => {
  it('authenticates a CA-issued certificate by subject DN and binds the token to it', async () => {
    const id = await clientId({ tlsClientAuthSubjectDn: PARTNER_DN });
    const token = await boundToken(id, partnerCert);
    expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': partnerCert.thumbprint });
    const introspected = await call(`${tls()}/oauth2/introspect`, {
      cert: partnerCert,
      form: { client_id: id, token },
    });
    expect(introspected.body).toMatchObject({ active: true, cnf: { 'x5t#S256': partnerCert.thumbprint } });
  });

  it('refuses the same DN from an untrusted CA, a self-signed one, no certificate, and another client id', async () => {
    const id = await clientId({ tlsClientAuthSubjectDn: PARTNER_DN });
    for (const cert of [foreignCert, selfSigned, undefined]) {
      const res = await call(`${tls()}/oauth2/token`, { ...(cert ? { cert } : {}), form: tokenForm(id) });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    }
    const other = await clientId({ tlsClientAuthSubjectDn: 'CN=someone-else' });
    expect((await call(`${tls()}/oauth2/token`, { cert: partnerCert, form: tokenForm(other) })).status).toBe(401);
  });

  it('authenticates a registered self-signed certificate by its thumbprint, and no other', async () => {
    const id = await clientId({ certificate: selfSigned.cert });
    const token = await boundToken(id, selfSigned);
    expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': selfSigned.thumbprint });
    expect((await call(`${tls()}/oauth2/token`, { cert: partnerCert, form: tokenForm(id) })).status).toBe(401);
  });

  it('takes a private_key_jwt assertion addressed to the mutual-TLS alias of the token endpoint', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES384');
    const id = await clientId({ issuer: 'https://partner.example/', jwks: { keys: [await exportJWK(publicKey)] } });
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES384' })
      .setIssuer(id)
      .setSubject(id)
      .setAudience(`${t.server.services.config.tls?.baseUrl}/oauth2/token`)
      .setExpirationTime('2m')
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    const res = await call(`${tls()}/oauth2/token`, {
      form: {
        ...tokenForm(id),
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('refuses a client that must use mutual TLS any other way, even with a valid secret', async () => {
    const id = await clientId({ certificate: selfSigned.cert, requireMtls: true });
    await setClientSecret(t.server.services.db, id, 'a-secret-it-should-not-have');
    const res = await call(`${tls()}/oauth2/token`, {
      form: { ...tokenForm(id), client_secret: 'a-secret-it-should-not-have' },
    });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_client' });
    expect(res.body.error_description).toMatch(/TLS client certificate/);
    await boundToken(id, selfSigned);
  });
});

describe('certificate-bound tokens on every route', () => {
  let token: string;
  beforeAll(async () => {
    token = await boundToken(await clientId({ tlsClientAuthSubjectDn: PARTNER_DN }), partnerCert);
  });

  const routes = [
    { name: 'FHIR', path: '/fhir/R4/Patient', ok: 200 },
    { name: 'CDS', path: '/cds-services', ok: 200 },
    { name: 'PAS', path: '/fhir/R4/Claim/$submit', json: () => seedRequest(), ok: 200 },
    // A project client on an admin route: past authentication, then 403 for not being the super-admin.
    { name: 'admin', path: '/admin/projects', json: () => ({ name: 'never' }), ok: 403 },
  ];

  it.each(routes)('$name: works with its certificate', async ({ path: route, json, ok }) => {
    const res = await call(`${tls()}${route}`, { cert: partnerCert, token, ...(json ? { json: json() } : {}) });
    expect(res.status, JSON.stringify(res.body)).toBe(ok);
  });

  it.each(routes)(
    '$name: 401 on the plain port, without a certificate, with another certificate',
    async ({ path: route, json }) => {
      const attempts = [
        call(`${t.url}${route}`, { token, ...(json ? { json: json() } : {}) }),
        call(`${tls()}${route}`, { token, ...(json ? { json: json() } : {}) }),
        call(`${tls()}${route}`, { cert: selfSigned, token, ...(json ? { json: json() } : {}) }),
        call(`${tls()}${route}`, { cert: foreignCert, token, ...(json ? { json: json() } : {}) }),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(res.status).toBe(401);
        expect(res.body.resourceType).toBe('OperationOutcome');
        expect(JSON.stringify(res.body)).toContain('auth.certificate-mismatch');
      }
    },
  );

  it('leaves plain tokens working on both ports, with or without a certificate', async () => {
    const plain = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    expect((await call(`${t.url}/fhir/R4/Patient`, { token: plain })).status).toBe(200);
    expect((await call(`${tls()}/fhir/R4/Patient`, { token: plain, cert: selfSigned })).status).toBe(200);
  });
});

describe('CDS Hooks client JWTs on the TLS port', () => {
  it('take the TLS address as the URL called (aud)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES384');
    const iss = `https://ehr.example/${Math.random()}`;
    await clientId({ role: 'ehr', issuer: iss, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] } });
    const jwt = (aud: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES384', kid: 'k' })
        .setIssuer(iss)
        .setAudience(aud)
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti(crypto.randomUUID())
        .sign(privateKey);
    const tlsBase = t.server.services.config.tls?.baseUrl as string;
    const ok = await call(`${tls()}/cds-services`, { token: await jwt(`${tlsBase}/cds-services`) });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const base = t.server.services.config.baseUrl;
    expect((await call(`${tls()}/cds-services`, { token: await jwt(`${base}/cds-services`) })).status).toBe(401);
  });
});

describe('behind a TLS-terminating proxy', () => {
  const viaProxy = (cert: TestCertificate, from: string, options: CallOptions = {}) =>
    call(`${t.url}${options.form ? '/oauth2/token' : '/fhir/R4/Patient'}`, {
      ...options,
      from,
      headers: { [PROXY_HEADER]: escaped(cert) },
    });

  it('believes the header from the configured proxy: both methods, and bound tokens', async () => {
    const selfId = await clientId({ certificate: selfSigned.cert });
    const caId = await clientId({ tlsClientAuthSubjectDn: PARTNER_DN });
    const selfRes = await viaProxy(selfSigned, '127.0.0.1', { form: tokenForm(selfId) });
    expect(selfRes.status, JSON.stringify(selfRes.body)).toBe(200);
    const caRes = await viaProxy(partnerCert, '127.0.0.1', { form: tokenForm(caId) });
    expect(caRes.status, JSON.stringify(caRes.body)).toBe(200);
    // The header's certificate is checked against TLS_CLIENT_CA by Hookbot too.
    expect((await viaProxy(foreignCert, '127.0.0.1', { form: tokenForm(caId) })).status).toBe(401);
    const token = selfRes.body.access_token as string;
    expect((await viaProxy(selfSigned, '127.0.0.1', { token })).status).toBe(200);
    expect((await viaProxy(partnerCert, '127.0.0.1', { token })).status).toBe(401);
  });

  it('ignores the header from any other address', async () => {
    const id = await clientId({ certificate: selfSigned.cert });
    const refused = await viaProxy(selfSigned, '127.0.0.2', { form: tokenForm(id) });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    const token = (await viaProxy(selfSigned, '127.0.0.1', { form: tokenForm(id) })).body.access_token as string;
    expect((await viaProxy(selfSigned, '127.0.0.2', { token })).status).toBe(401);
  });
});

describe('the CLI', () => {
  it('registers a client with --cert, signs in with --cert and --key, and calls with the bound token', async () => {
    assertCliBuilt();
    await Promise.all([
      writeFile(path.join(dir, 'client.pem'), selfSigned.cert),
      writeFile(path.join(dir, 'client.key'), selfSigned.key),
      writeFile(path.join(dir, 'other.key'), partnerCert.key),
    ]);
    const env = {
      HOME: dir,
      HOOKBOT_CONFIG_DIR: path.join(dir, 'config'),
      NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem'),
    };
    const hookbot = (...args: string[]) => runCli(args, { cwd: dir, env });
    const admin = ['--profile', 'admin'];
    const login = await hookbot(
      'login',
      '--base-url',
      t.url,
      '--client-id',
      t.admin.clientId,
      '--client-secret',
      t.admin.clientSecret,
      ...admin,
    );
    expect(login.code, login.stderr).toBe(0);
    const created = await hookbot(
      'admin',
      'client',
      'create',
      'cli-partner',
      '--project',
      t.demo.projectId,
      '--role',
      'admin',
      '--cert',
      'client.pem',
      '--require-mtls',
      '--json',
      ...admin,
    );
    expect(created.code, created.stderr).toBe(0);
    const client = created.json<{ clientId: string; certThumbprint: string; requireMtls: boolean }>();
    expect(client).toMatchObject({ certThumbprint: selfSigned.thumbprint, requireMtls: true });

    const signIn = await hookbot(
      'login',
      '--base-url',
      tls(),
      '--client-id',
      client.clientId,
      '--cert',
      'client.pem',
      '--key',
      'client.key',
      '--profile',
      'mtls',
    );
    expect(signIn.code, signIn.stderr).toBe(0);
    const discover = await hookbot('hooks', 'discover', '--json', '--profile', 'mtls');
    expect(discover.code, discover.stderr).toBe(0);
    // A key that is not the certificate's fails the handshake: a network error (exit 4), never a token.
    const mismatched = await hookbot(
      'login',
      '--base-url',
      tls(),
      '--client-id',
      client.clientId,
      '--cert',
      'client.pem',
      '--key',
      'other.key',
    );
    expect(mismatched.code).not.toBe(0);
    const withoutKey = await hookbot(
      'login',
      '--base-url',
      tls(),
      '--client-id',
      client.clientId,
      '--cert',
      'client.pem',
    );
    expect(withoutKey.code).toBe(2);
    expect(withoutKey.stderr).toMatch(/--cert and --key together/);
  }, 60_000);
});
