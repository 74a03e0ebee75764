/**
 * Client authentication and token checks: token-endpoint throughput with a client secret (scrypt), a
 * `private_key_jwt` assertion (ES384, signed before the run: one per request, each `jti` used once) and mutual TLS
 * (`self_signed_tls_client_auth` on the TLS port, connections kept alive); then the per-request cost of turning a
 * presented access token into a caller (`callerOfToken`: cached signature check, revocation lookup and, for a
 * certificate-bound token, the certificate of the connection or of the proxy's header).
 *
 * Run: `npm run bench -- auth`. The server runs in this process on PGlite (no Redis) with the token rate limits off;
 * the load comes from this process too (undici, BENCH_AUTH_CONNECTIONS connections, default 4), so the token rates
 * are comparable with each other rather than a server's ceiling. BENCH_AUTH_SECONDS (5) per method.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { callerOfToken } from '../packages/server/src/auth/middleware.js';
import {
  createCa,
  createClientCertificate,
  createServerCertificate,
  type TestCertificate,
} from '../test/support/certificates.js';
import { getToken, request } from '../test/support/http.js';
import { freePort } from '../test/support/port.js';
import { startTestServer, type TestServer } from '../test/support/server.js';

const SECONDS = Number(process.env.BENCH_AUTH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_AUTH_CONNECTIONS ?? 4);
const VERIFY_ITERATIONS = 200_000;
const PROXY_HEADER = 'x-client-cert';

interface TokenRow {
  method: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

interface VerifyRow {
  token: string;
  usPerRequest: number;
}

/** Runs `send` from `CONNECTIONS` concurrent loops for `SECONDS`, each call's latency recorded. */
async function load(method: string, send: (i: number) => Promise<number>): Promise<TokenRow> {
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const start = performance.now();
        const status = await send(next++);
        latencies.push(performance.now() - start);
        if (status !== 200) failed++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { method, rps: latencies.length / SECONDS, p50Ms: at(0.5), p99Ms: at(0.99), failed };
}

async function registerClient(t: TestServer, adminToken: string, body: Record<string, unknown>) {
  const res = await request<{ clientId: string; clientSecret?: string }>(
    `${t.url}/admin/projects/${t.demo.projectId}/clients`,
    { method: 'POST', token: adminToken, json: { name: `bench-${Math.random()}`, role: 'admin', ...body } },
  );
  if (res.status !== 201) throw new Error(`client registration failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A real TLS connection's server side, presenting `client`'s certificate: what the TLS listener's requests carry. */
async function tlsServerSocket(
  ca: TestCertificate,
  client: TestCertificate,
): Promise<{ socket: TLSSocket; close(): void }> {
  const server = await createServerCertificate(ca);
  const listener = createServer({ cert: server.cert, key: server.key, requestCert: true, rejectUnauthorized: false });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'secureConnection') as Promise<[TLSSocket]>;
  const port = (listener.address() as { port: number }).port;
  const clientSide = connect({ port, host: '127.0.0.1', ca: ca.cert, cert: client.cert, key: client.key });
  const [socket] = await accepted;
  return {
    socket,
    close() {
      clientSide.destroy();
      listener.close();
    },
  };
}

async function measureVerify(label: string, run: () => Promise<unknown>): Promise<VerifyRow> {
  for (let i = 0; i < 10_000; i++) await run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < VERIFY_ITERATIONS; i++) await run();
  return { token: label, usPerRequest: Number(process.hrtime.bigint() - start) / 1000 / VERIFY_ITERATIONS };
}

export async function benchAuth(): Promise<{ tokens: TokenRow[]; verify: VerifyRow[] }> {
  const ca = await createCa();
  const serverCert = await createServerCertificate(ca);
  const clientCert = await createClientCertificate('CN=bench partner');
  const dir = await mkdtemp(path.join(tmpdir(), 'hookbot-bench-auth-'));
  await writeFile(path.join(dir, 'server.pem'), serverCert.cert);
  await writeFile(path.join(dir, 'server.key'), serverCert.key);
  const t = await startTestServer({
    env: {
      TLS_PORT: String(await freePort()),
      TLS_CERT: path.join(dir, 'server.pem'),
      TLS_KEY: path.join(dir, 'server.key'),
      HOOKBOT_CLIENT_CERT_HEADER: PROXY_HEADER,
      HOOKBOT_CLIENT_CERT_PROXIES: '127.0.0.1',
      HOOKBOT_TOKEN_RATE_LIMIT: '0',
      HOOKBOT_RATE_LIMIT: '0',
    },
  });
  const plainAgent = new Agent({ connections: CONNECTIONS });
  const tlsAgent = new Agent({
    connections: CONNECTIONS,
    connect: { ca: ca.cert, cert: clientCert.cert, key: clientCert.key },
  });
  const tokenUrl = `${t.url}/oauth2/token`;
  const tlsTokenUrl = `${t.server.tlsUrl}/oauth2/token`;
  const post = async (url: string, form: Record<string, string>, dispatcher: Agent) => {
    const res = await undiciFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      dispatcher,
    });
    await res.arrayBuffer();
    return res.status;
  };
  try {
    const adminToken = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const secretClient = await registerClient(t, adminToken, {});
    const { publicKey, privateKey } = await generateKeyPair('ES384');
    const jwkClient = await registerClient(t, adminToken, {
      issuer: 'https://bench.example/',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES384' }] },
    });
    const mtlsClient = await registerClient(t, adminToken, { certificate: clientCert.cert, requireMtls: true });

    // Enough assertions for the fastest rate seen here, signed before the clock starts.
    const assertions = await Promise.all(
      Array.from({ length: 3000 * SECONDS }, () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'ES384', kid: 'bench' })
          .setIssuer(jwkClient.clientId)
          .setSubject(jwkClient.clientId)
          .setAudience(tokenUrl)
          .setJti(crypto.randomUUID())
          .setExpirationTime('4m')
          .sign(privateKey),
      ),
    );
    const form = (clientId: string) => ({ grant_type: 'client_credentials', client_id: clientId });
    const tokens = [
      await load('client secret (scrypt)', () =>
        post(tokenUrl, { ...form(secretClient.clientId), client_secret: secretClient.clientSecret ?? '' }, plainAgent),
      ),
      await load('private_key_jwt (ES384)', (i) =>
        post(
          tokenUrl,
          {
            ...form(jwkClient.clientId),
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: assertions[i % assertions.length] ?? '',
          },
          plainAgent,
        ),
      ),
      await load('mTLS (self-signed, TLS port)', () => post(tlsTokenUrl, form(mtlsClient.clientId), tlsAgent)),
    ];

    const { services } = t.server;
    const plainToken = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const boundRes = await undiciFetch(tlsTokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form(mtlsClient.clientId)).toString(),
      dispatcher: tlsAgent,
    });
    const boundToken = ((await boundRes.json()) as { access_token: string }).access_token;
    const tls = await tlsServerSocket(ca, clientCert);
    const plainReq = { socket: { remoteAddress: '127.0.0.1' }, headers: {} } as unknown as IncomingMessage;
    const tlsReq = { socket: tls.socket, headers: {} } as unknown as IncomingMessage;
    const escapedBytes = Buffer.from(encodeURIComponent(clientCert.cert), 'latin1');
    // One proxy connection (kept alive), and a new (flat) header string per request, as the HTTP parser makes.
    const proxySocket = { remoteAddress: '127.0.0.1' };
    const proxyReq = () =>
      ({
        socket: proxySocket,
        headers: { [PROXY_HEADER]: escapedBytes.toString('latin1') },
      }) as unknown as IncomingMessage;
    const verify = [
      await measureVerify('plain', () => callerOfToken(services, plainToken, plainReq)),
      await measureVerify('certificate-bound, TLS listener', () => callerOfToken(services, boundToken, tlsReq)),
      // The same requests with a plain token: what making each request's header string costs the bench itself.
      await measureVerify('plain, proxy header present', () => callerOfToken(services, plainToken, proxyReq())),
      await measureVerify('certificate-bound, proxy header', () => callerOfToken(services, boundToken, proxyReq())),
    ];
    tls.close();
    print(tokens, verify);
    return { tokens, verify };
  } finally {
    await Promise.all([plainAgent.close(), tlsAgent.close()]);
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function print(tokens: TokenRow[], verify: VerifyRow[]): void {
  const cell = (text: string, width: number) => (width < 0 ? text.padEnd(-width) : text.padStart(width));
  const lines = [
    `Token endpoint: PGlite, ${CONNECTIONS} connections from this process, ${SECONDS} s per method`,
    [cell('method', -30), cell('tokens/s', 9), cell('p50 ms', 8), cell('p99 ms', 8), cell('failed', 7)].join(' '),
    ...tokens.map((r) =>
      [
        cell(r.method, -30),
        cell(r.rps.toFixed(0), 9),
        cell(r.p50Ms.toFixed(2), 8),
        cell(r.p99Ms.toFixed(2), 8),
        cell(String(r.failed), 7),
      ].join(' '),
    ),
    '',
    `Access token check per request (callerOfToken, warm: signature remembered, revocation looked up), ${VERIFY_ITERATIONS} calls`,
    [cell('token', -34), cell('µs/request', 11)].join(' '),
    ...verify.map((r) => [cell(r.token, -34), cell(r.usPerRequest.toFixed(2), 11)].join(' ')),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
