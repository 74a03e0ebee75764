/**
 * Every registered route that takes a body (POST, PUT, PATCH), sent garbage by each caller the route table lets
 * reach it (the OAuth endpoints: by anyone): invalid JSON, an array where an object is expected, JSON nested past
 * the documented depth, a content type the route does not take, an empty body, a NUL. Each answers 4xx with an
 * OperationOutcome (RFC 6749 error JSON on `/oauth2/*`, or an error page on the member's pages): never a crash,
 * never a success.
 */
import { describe, expect, it } from 'vitest';
import { ROUTE_TABLE, type Caller } from './support/route-table.js';
import { registeredRoutes, send, takesBody, type Route, walkedServer } from './support/routes.js';

const walked = walkedServer();

const JSON_TYPE = 'application/json';
const FORM = 'application/x-www-form-urlencoded';
/** The documented limit (`packages/server/src/infra/README.md`; 200 on the CDS routes). */
const MAX_JSON_DEPTH = 100;
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

type Garbage = [name: string, body: string | Buffer, contentType: string, headers?: Record<string, string>];

const gzipped = { 'Content-Encoding': 'gzip' };

/** Garbage for the JSON routes. */
const JSON_GARBAGE: Garbage[] = [
  ['invalid JSON', '{"resourceType": "Bot",', JSON_TYPE],
  ['a JSON array', '[{"resourceType": "Bot"}]', JSON_TYPE],
  ['a JSON string', '"Bot"', JSON_TYPE],
  ['JSON null', 'null', JSON_TYPE],
  ['an object for a string', '{"name": {"family": "x"}}', JSON_TYPE],
  ['JSON one level too deep', nested(MAX_JSON_DEPTH + 1), JSON_TYPE],
  ['JSON 201 levels deep', nested(201), JSON_TYPE],
  ['JSON 20,000 levels deep', nested(20_000), JSON_TYPE],
  ['XML', '<Bot xmlns="http://hl7.org/fhir"/>', 'application/xml'],
  ['no content type', '{"resourceType": "Bot"}', ''],
  ['a form', 'resourceType=Bot', FORM],
  // Any charset is tolerated, and read as UTF-8.
  ['UTF-16', Buffer.from('{"resourceType": "Bot"}', 'utf16le'), `${JSON_TYPE}; charset=utf-16`],
  ['broken gzip', '{"resourceType": "Bot"}', JSON_TYPE, gzipped],
  ['an unknown encoding', '{"resourceType": "Bot"}', JSON_TYPE, { 'Content-Encoding': 'x-unknown' }],
  ['an empty body', '', JSON_TYPE],
  ['an escaped NUL', '{"resourceType": "Bot", "name": "a\\u0000b"}', JSON_TYPE],
  ['a raw NUL', '{"resourceType": "Bot", "name": "a\u0000b"}', JSON_TYPE],
];

/** Garbage for the OAuth endpoints, which take a form. */
const FORM_GARBAGE: Garbage[] = [
  ['JSON', '{"grant_type": "client_credentials"}', JSON_TYPE],
  ['broken gzip', 'grant_type=client_credentials', FORM, gzipped],
  ['an empty form', '', FORM],
  ['a repeated parameter', 'grant_type=client_credentials&grant_type=client_credentials&token=a&token=b', FORM],
  ['a nested parameter', `grant_type${'[a]'.repeat(200)}=x&token${'[a]'.repeat(200)}=x`, FORM],
  ['a NUL', 'grant_type=client_credentials%00&client_id=a%00&token=a%00', FORM],
  ['bad percent-encoding', 'grant_type=%E0%A4%A&token=%', FORM],
];

/**
 * Garbage a route takes for input: `$execute` hands any JSON object or array, a form or nothing to the bot,
 * `$bind-pas` reads no body (its Bot is in the path), neither do the key rotations, `$validate-rules` reports on any
 * JSON it is given, a `_search` without parameters searches for everything, and
 * a form's malformed escape is read as it is (`token=%` is the token "%", unknown: inactive by RFC 7662, and its
 * revocation a success by RFC 7009). It must not crash there.
 */
const ACCEPTED: Record<string, string[]> = {
  'POST /fhir/R4/Bot/:id/$execute': ['a JSON array', 'an object for a string', 'a form', 'an empty body'],
  'POST /fhir/R4/Bot/:id/$bind-pas': ['a JSON array', 'an object for a string', 'an empty body'],
  'POST /fhir/R4/:type/_search': ['an empty body'],
  // The key operations read no body; validation answers any JSON with its report (`valid: false` and where).
  'POST /admin/signing-keys': ['a JSON array', 'an object for a string', 'an empty body'],
  'POST /admin/secrets/reseal': ['a JSON array', 'an object for a string', 'an empty body'],
  'POST /fhir/R4/Bot/$validate-rules': ['a JSON array', 'an object for a string', 'an empty body'],
  'POST /oauth2/introspect': ['bad percent-encoding'],
  'POST /oauth2/revoke': ['bad percent-encoding'],
};

/**
 * Who sends garbage to a route: the callers that reach it, the admin where nobody does; on a public route nobody,
 * and on the OAuth endpoints also the demo client with its credentials (HTTP Basic), so that its form is read.
 */
function sendersOf(route: Route): (Caller | 'demo client' | undefined)[] {
  const allowed = ROUTE_TABLE[route.key];
  if (allowed === 'public') return route.path.startsWith('/oauth2/') ? [undefined, 'demo client'] : [undefined];
  return allowed?.length ? allowed : ['admin'];
}

function authorizationOf(sender: Caller | 'demo client' | undefined): Record<string, string> {
  if (sender === undefined) return {};
  if (sender !== 'demo client') return walked.headers[sender];
  const basic = Buffer.from(`${walked.t.demo.clientId}:${walked.t.demo.clientSecret}`).toString('base64');
  return { Authorization: `Basic ${basic}` };
}

function isOutcome(body: string, oauth: boolean): boolean {
  try {
    const parsed = JSON.parse(body) as { resourceType?: unknown; issue?: unknown; error?: unknown };
    return oauth
      ? typeof parsed.error === 'string'
      : parsed.resourceType === 'OperationOutcome' && Array.isArray(parsed.issue);
  } catch {
    return false;
  }
}

describe('every registered route that takes a body', () => {
  it('answers garbage with a 4xx OperationOutcome (OAuth error JSON on /oauth2), whoever sends it', async () => {
    const failures: string[] = [];
    const routes = registeredRoutes(walked.t, walked.botId).filter((r) => takesBody(r.method));
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const oauth = route.path.startsWith('/oauth2/');
      for (const caller of sendersOf(route)) {
        for (const [name, body, contentType, headers] of oauth ? FORM_GARBAGE : JSON_GARBAGE) {
          const res = await send(walked.t, route.method, route.path, {
            body,
            contentType,
            headers: { ...authorizationOf(caller), ...headers },
          });
          // The member's pages answer a form they cannot use with a page (its CSRF token is missing).
          const page = route.path.startsWith('/oauth2/authorize') && res.body.startsWith('<!doctype html>');
          const refused = res.status >= 400 && res.status < 500 && (isOutcome(res.body, oauth) || page);
          if (ACCEPTED[route.key]?.includes(name) ? res.status >= 500 : !refused)
            failures.push(
              `${route.method} ${route.path} (${caller ?? 'no token'}, ${name}): ${res.status} ${res.body.slice(0, 200)}`,
            );
        }
      }
    }
    expect(failures).toEqual([]);
    // Console users send to most routes too: longer than a test's default.
  }, 180_000);
});
