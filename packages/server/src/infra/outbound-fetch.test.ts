import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundFetch } from './outbound-fetch.js';

let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/big') {
      res.end('x'.repeat(64 * 1024));
      return;
    }
    if (req.url === '/redirect') {
      res.writeHead(302, { Location: 'http://169.254.169.254/' });
      res.end();
      return;
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ auth: req.headers.authorization ?? null }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

describe('outboundFetch', () => {
  it('calls a listed loopback base URL in development, sending the headers', async () => {
    const f = outboundFetch({ development: true, allowedBaseUrls: [`http://localhost:${port}`] });
    const res = await f(`http://localhost:${port}/fhir`, { headers: { Authorization: 'Bearer t' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ auth: 'Bearer t' });
  });

  it('refuses the same URL outside development, by name and at connect time', async () => {
    const f = outboundFetch({ development: false, allowedBaseUrls: [`http://localhost:${port}`] });
    await expect(f(`http://localhost:${port}/fhir`)).rejects.toThrow();
    const unlisted = outboundFetch({ development: true });
    await expect(unlisted(`http://localhost:${port}/fhir`)).rejects.toThrow(/https|private|loopback/);
  });

  it('caps the body and does not follow redirects', async () => {
    const f = outboundFetch(
      { development: true, allowedBaseUrls: [`http://127.0.0.1:${port}`] },
      { maxResponseBytes: 1024 },
    );
    await expect(f(`http://127.0.0.1:${port}/big`)).rejects.toThrow(/exceeds 1024 bytes/);
    const redirect = await f(`http://127.0.0.1:${port}/redirect`);
    expect(redirect.status).toBe(302);
  });
});
