/**
 * Every route the app registers, read from its own routers (so a route added later is walked too), called in
 * spellings other than its own (letter case, trailing slash, doubled slash, dot segment, percent-encoded letter)
 * without a token and with another tenant's token: none may reach a handler. Its own spelling without a token
 * must be refused unless the route is public, and with another tenant's token must never succeed on the victim's
 * resources nor crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouters } from '@hookbot/server';
import { getToken, request } from './support/http.js';
import { registeredRoutes as routesOf, send as sendTo } from './support/routes.js';
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

const registeredRoutes = () => routesOf(t, botId);
const send = (method: string, path: string, token?: string) => sendTo(t, method, path, { token });

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
      'GET /livez',
      'GET /readyz',
      'GET /console/',
      'GET /console/*path',
      'POST /oauth2/token',
      'POST /oauth2/introspect',
      'POST /oauth2/revoke',
      'GET /.well-known/jwks.json',
      'GET /.well-known/smart-configuration',
      'GET /fhir/R4/.well-known/smart-configuration',
      'GET /.well-known/openid-configuration',
      'GET /oauth2/authorize',
      'POST /oauth2/authorize',
      'GET /oauth2/authorize/sign-up',
      'POST /oauth2/authorize/sign-in',
      'POST /oauth2/authorize/sign-up',
      'POST /oauth2/authorize/consent',
      'POST /oauth2/authorize/sign-out',
      'POST /auth/session',
      'POST /auth/invitations/accept',
      'GET /fhir/R4/metadata',
      'GET /fhir/R4/OperationDefinition',
      `GET /fhir/R4/OperationDefinition/${botId}`,
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
