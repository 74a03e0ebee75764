/**
 * A partner's endpoints on loopback for delivery tests: a rest-hook receiver (`/hook`), an OAuth2 token endpoint
 * (`/token`, client credentials with HTTP Basic) and a callback that wants that token (`/callback`). Each can be
 * told to fail its next requests.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  status: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Fail the next n requests to a path with 503 (Infinity: until reset). */
  fail(path: string, n: number): void;
  /** Tokens the token endpoint issued; the callback accepts only the latest one unless `revoke`d. */
  tokens: string[];
  revokeTokens(): void;
  waitFor(predicate: (r: Received) => boolean, timeoutMs?: number): Promise<Received>;
  close(): Promise<void>;
}

export async function startReceiver(client: { id: string; secret: string }): Promise<Receiver> {
  const received: Received[] = [];
  const failures = new Map<string, number>();
  const tokens: string[] = [];
  let revokedBefore = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // form or text
      }
      const path = (req.url ?? '').split('?')[0] ?? '';
      let status = 200;
      let answer: unknown = {};
      const left = failures.get(path) ?? 0;
      if (left > 0) {
        failures.set(path, left - 1);
        status = 503;
      } else if (path === '/token') {
        const basic = Buffer.from(`${client.id}:${client.secret}`).toString('base64');
        if (req.headers.authorization !== `Basic ${basic}` || !text.includes('grant_type=client_credentials')) {
          status = 401;
          answer = { error: 'invalid_client' };
        } else {
          const token = `tok-${tokens.length + 1}`;
          tokens.push(token);
          answer = { access_token: token, token_type: 'Bearer', expires_in: 3600 };
        }
      } else if (path === '/callback') {
        const valid = tokens.slice(revokedBefore).map((t) => `Bearer ${t}`);
        if (!valid.includes(req.headers.authorization ?? '')) status = 401;
      }
      received.push({ path, headers: req.headers, body, status });
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    tokens,
    fail: (path, n) => failures.set(path, n),
    revokeTokens: () => (revokedBefore = tokens.length),
    async waitFor(predicate, timeoutMs = 15_000) {
      const start = Date.now();
      for (;;) {
        const hit = received.find(predicate);
        if (hit) return hit;
        if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for a delivery');
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
