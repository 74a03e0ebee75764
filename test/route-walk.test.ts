/**
 * Every route the app registers, read from its own routers (so a route added later is walked too), called in
 * spellings other than its own (letter case, trailing slash, doubled slash, dot segment, percent-encoded letter)
 * without a token and with another tenant's token: none may reach a handler. Its own spelling without a token
 * must be refused unless the route is public, and with another tenant's token must never succeed on the victim's
 * resources nor crash.
 */
import { request as httpRequest } from 'node:http';
import { METHODS } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouters } from '@hookbot/server';
import { ownAuthentication, publicRoute } from '@hookbot/server/testing';
import { getToken, request } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
let otherToken: string;
let botId: string;

beforeAll(async () => {
  t = await startTestServer();
  const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
  const other = await request<{ client: { clientId: string; clientSecret: string } }>(`${t.url}/admin/projects`, {
    method: 'POST',
    token: admin,
    json: { name: 'route-walk-other' },
  });
  expect(other.status).toBe(201);
  otherToken = await getToken(t.url, other.body.client.clientId, other.body.client.clientSecret);
  const demoToken = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  const discovery = await request<{ services: { id: string }[] }>(`${t.url}/cds-services`, { token: demoToken });
  botId = (discovery.body.services[0] as { id: string }).id;
});
afterAll(async () => t?.stop());

interface Route {
  method: string;
  /** The route's path with its parameters filled with the demo tenant's ids. */
  path: string;
  access: 'public' | 'own' | 'caller';
  /** Reaches the demo tenant's resources (an `:id`) or the super-admin's API. */
  victim: 'resource' | 'admin' | undefined;
}

/** The routers' route layers; a layer for every method (`router.all`) is walked with one method no handler serves. */
function registeredRoutes(): Route[] {
  const routes: Route[] = [];
  for (const router of createRouters(t.server.services)) {
    for (const layer of router.stack) {
      const pattern = layer.path;
      if (layer.methods.length === 0 || typeof pattern !== 'string') continue;
      const every = METHODS.every((m) => layer.methods.includes(m));
      const methods = every ? ['PATCH'] : layer.methods.filter((m) => m !== 'HEAD' && m !== 'OPTIONS');
      const path = pattern.replace(/:(\w+)/g, (_, name: string) =>
        name === 'type' ? 'Bot' : name === 'vid' ? '1' : pattern.startsWith('/admin/') ? t.demo.projectId : botId,
      );
      const access = layer.stack.includes(publicRoute)
        ? 'public'
        : layer.stack.includes(ownAuthentication)
          ? 'own'
          : 'caller';
      const victim = pattern.startsWith('/admin/')
        ? 'admin'
        : layer.paramNames.some((p) => p.name === 'id')
          ? 'resource'
          : undefined;
      for (const method of methods) routes.push({ method, path, access, victim });
    }
  }
  return routes;
}

/** Other spellings of `path`: none of them is the route's. */
function otherSpellings(path: string): string[] {
  const [, first = '', rest = ''] = /^\/([^/]+)(.*)$/.exec(path) ?? [];
  const encoded = `%${first.charCodeAt(0).toString(16).toUpperCase()}${first.slice(1)}`;
  const lastLetter = path.search(/[a-z](?=[^a-z]*$)/);
  return [
    path.toUpperCase(),
    `/${first.charAt(0).toUpperCase()}${first.slice(1)}${rest}`,
    `/${first}${rest.replace(/\/([a-z])/, (_, c: string) => `/${c.toUpperCase()}`)}`,
    `${path}/`,
    `/${path}`,
    `/${first}/${rest}`,
    `/${first}/.${rest}`,
    `/${first}/../${first}${rest}`,
    `/${encoded}${rest}`,
    `${path.slice(0, lastLetter)}%${path.charCodeAt(lastLetter).toString(16)}${path.slice(lastLetter + 1)}`,
  ].filter((spelling) => spelling !== path);
}

/** node:http sends the path as written (fetch would resolve dot segments). */
function send(method: string, path: string, token?: string): Promise<{ status: number; body: string }> {
  const url = new URL(t.url);
  const body = ['POST', 'PUT', 'PATCH'].includes(method) ? '{}' : undefined;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('every registered route', () => {
  it('is found in the routers, public ones included', () => {
    const routes = registeredRoutes();
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of [
      'GET /healthcheck',
      'POST /oauth2/token',
      `POST /admin/projects/${t.demo.projectId}/clients`,
      `PUT /admin/projects/${t.demo.projectId}/settings`,
      `POST /cds-services/${botId}`,
      `POST /fhir/R4/Bot/${botId}/$deploy`,
      `GET /fhir/R4/Bot/${botId}`,
    ])
      expect(names).toContain(expected);
    expect(routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /healthcheck',
      'POST /oauth2/token',
      'POST /oauth2/introspect',
      'POST /oauth2/revoke',
      'GET /.well-known/jwks.json',
      'GET /.well-known/smart-configuration',
      'GET /fhir/R4/.well-known/smart-configuration',
      'GET /fhir/R4/metadata',
    ]);
  });

  it('refuses every other spelling, without a token and with another tenant’s, before any handler runs', async () => {
    const routers = createRouters(t.server.services);
    const failures: string[] = [];
    for (const route of registeredRoutes()) {
      for (const spelling of otherSpellings(route.path)) {
        // A spelling that is another route (`/fhir/R4/Metadata` searches a type "Metadata") is that route's to
        // answer for a caller with a token; without one it is refused like any other.
        const another = routers.some((router) => router.match(spelling, route.method).route);
        for (const [who, token] of [
          ['no token', undefined],
          ['other tenant', another ? undefined : otherToken],
        ] as const) {
          const res = await send(route.method, spelling, token);
          if (![401, 403, 404].includes(res.status))
            failures.push(`${route.method} ${spelling} (${who}): ${res.status} ${res.body.slice(0, 120)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses its own spelling without a token unless public, and never serves the victim to another tenant', async () => {
    const failures: string[] = [];
    for (const route of registeredRoutes()) {
      if (route.access !== 'public') {
        const res = await send(route.method, route.path);
        if (res.status !== 401) failures.push(`${route.method} ${route.path} (no token): ${res.status}`);
      }
      // Type-level routes (search, create) serve the caller's own tenant: only the victim's ids are walked.
      if (route.victim) {
        const res = await send(route.method, route.path, otherToken);
        const refused = route.victim === 'admin' ? res.status === 403 : res.status >= 400 && res.status < 500;
        if (!refused)
          failures.push(`${route.method} ${route.path} (other tenant): ${res.status} ${res.body.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
