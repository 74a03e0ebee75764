/**
 * Request input: the URL, and bodies: size-limited (413), JSON in its three spellings (`application/json`,
 * `application/fhir+json` and the legacy `application/json+fhir`, any charset), form-encoded where OAuth and FHIR
 * `_search` need it, plain text for bot input. Anything else with a body is a 415. `__proto__` keys in JSON are
 * refused by co-body's parser. What the store cannot hold (a NUL anywhere, a lone surrogate, JSON nested deeper than
 * `MAX_JSON_DEPTH`: see storable.ts) is a 400 naming where it is, before any handler sees it. A Binary written in any
 * media type but JSON (`POST Binary`, `PUT Binary/{id}`, as FHIR and Medplum's clients send files) is read as bytes,
 * within the same limit.
 */
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import getRawBody from 'raw-body';
import { HookbotError, malformedJson, type OAuthErrorCode } from './errors.js';
import { findUnstorable, unstorableText } from './storable.js';

const JSON_TYPES = ['application/json', 'application/fhir+json', 'application/json+fhir'];
const FORM = 'application/x-www-form-urlencoded';
const TEXT = 'text/plain';
/** JSON Patch (RFC 6902), for FHIR's PATCH. */
const JSON_PATCH = 'application/json-patch+json';

/**
 * The OAuth endpoints are public: a form there is a few fields (a client assertion of a few KB at most), so a larger
 * body is refused before it is read or any secret in it hashed.
 */
const OAUTH_MAX_BODY = 64 * 1024;
const isOAuth = (ctx: Context) => ctx.path.startsWith('/oauth2/');

/** The OAuth endpoints, exactly: any other spelling reaches no route, and must answer 404 like one. */
const OAUTH_FORM_PATHS = new Set([
  '/oauth2/token',
  '/oauth2/introspect',
  '/oauth2/revoke',
  '/oauth2/authorize',
  '/oauth2/authorize/sign-in',
  '/oauth2/authorize/sign-up',
  '/oauth2/authorize/consent',
  '/oauth2/authorize/sign-out',
]);

/** Which body types a path accepts: the first match's, else JSON. */
const ACCEPTED: [test: (path: string) => boolean, types: string[]][] = [
  [(p) => OAUTH_FORM_PATHS.has(p), [FORM]],
  [(p) => p.startsWith('/fhir/') && p.endsWith('/_search'), [FORM, ...JSON_TYPES]],
  [(p) => p.startsWith('/fhir/') && p.endsWith('/$execute'), [...JSON_TYPES, TEXT, FORM]],
  [(p) => /^\/fhir\/R4\/[A-Z][A-Za-z]*\/[^/$]+$/.test(p), [...JSON_TYPES, JSON_PATCH]],
];

/** A Binary written as its own content: any media type (JSON is a Binary resource). */
const isBinaryWrite = (ctx: Context) =>
  (ctx.method === 'POST' && ctx.path === '/fhir/R4/Binary') ||
  (ctx.method === 'PUT' && /^\/fhir\/R4\/Binary\/[^/]+$/.test(ctx.path));
const isRawBinary = (ctx: Context) => isBinaryWrite(ctx) && ctx.get('content-type') !== '' && !ctx.is(JSON_TYPES);

function hasBody(ctx: Context): boolean {
  const length = ctx.get('content-length');
  return (length !== '' && length !== '0') || ctx.get('transfer-encoding') !== '';
}

/** A 400 naming `path`; `invalid_request` on the OAuth routes. */
function refused(ctx: Context, path: string, message: string): HookbotError {
  const diagnostics = path ? `${path}: ${message}` : message;
  const oauthError: OAuthErrorCode | undefined = isOAuth(ctx) ? 'invalid_request' : undefined;
  return new HookbotError('request.unstorable', diagnostics, {
    issues: [{ severity: 'error', code: 'invalid', diagnostics, ...(path ? { expression: [path] } : {}) }],
    oauthError,
  });
}

/** A NUL (`%00`) in the path or the query; a query parameter is named. */
const checkUrl: Middleware = async (ctx, next) => {
  if (/%00/i.test(ctx.path)) throw refused(ctx, '', `The URL path ${unstorableText('\u0000')}`);
  if (/%00/i.test(ctx.querystring)) {
    for (const [key, value] of new URLSearchParams(ctx.querystring)) {
      const why = unstorableText(key + value);
      if (why) throw refused(ctx, key.replaceAll('\u0000', '%00'), `The query parameter ${why}`);
    }
  }
  await next();
};

const checkParsed: Middleware = async (ctx, next) => {
  const body: unknown = (ctx.request as { body?: unknown }).body;
  if (Buffer.isBuffer(body)) {
    // Bytes: stored base64, so any byte is storable.
  } else if (typeof body === 'string') {
    const why = unstorableText(body);
    if (why) throw refused(ctx, '', `The request body ${why}`);
  } else {
    const problem = findUnstorable(body);
    if (problem) throw refused(ctx, problem.path, problem.message);
  }
  await next();
};

const tooLarge = (ctx: Context, limit: number) =>
  new HookbotError('request.body-too-large', `Request body exceeds the limit of ${limit} bytes`, {
    ...(isOAuth(ctx) ? { oauthError: 'invalid_request' as const } : {}),
  });

export function bodyParsing(maxBodyBytes: number): Middleware[] {
  const oauthMax = Math.min(maxBodyBytes, OAUTH_MAX_BODY);
  const limitOf = (ctx: Context) => (isOAuth(ctx) ? oauthMax : maxBodyBytes);
  const checkType: Middleware = async (ctx, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(ctx.method) && hasBody(ctx)) {
      const accepted = ACCEPTED.find(([test]) => test(ctx.path))?.[1] ?? JSON_TYPES;
      const declared = Number(ctx.get('content-length'));
      if (Number.isFinite(declared) && declared > limitOf(ctx)) throw tooLarge(ctx, limitOf(ctx));
      if (!isRawBinary(ctx) && !ctx.is(accepted)) {
        const message = `Content-Type "${ctx.get('content-type') || '(none)'}" is not accepted here; send ${accepted.join(' or ')}`;
        if (isOAuth(ctx)) {
          throw new HookbotError('oauth.unsupported-media-type', message, { oauthError: 'invalid_request' });
        }
        throw new HookbotError('request.unsupported-media-type', message);
      }
    }
    await next();
  };
  const parserFor = (limit: number) =>
    bodyParser({
      enableTypes: ['json', 'form', 'text'],
      extendTypes: { json: [...JSON_TYPES, JSON_PATCH] },
      jsonLimit: limit,
      formLimit: limit,
      textLimit: limit,
      jsonStrict: true,
      onError: (err: Error, ctx: Context) => {
        const status = (err as { status?: number }).status ?? 400;
        if (status === 413) throw tooLarge(ctx, limit);
        if (ctx.is(JSON_TYPES)) throw malformedJson(err.message);
        throw new HookbotError('request.malformed-body', `Malformed request body: ${err.message}`);
      },
    });
  const parseOAuth = parserFor(oauthMax);
  const parseOther = parserFor(maxBodyBytes);
  const readRaw: Middleware = async (ctx, next) => {
    try {
      const length = ctx.get('content-length');
      (ctx.request as { body?: unknown }).body = await getRawBody(ctx.req, {
        limit: maxBodyBytes,
        ...(length ? { length } : {}),
      });
    } catch (err) {
      if ((err as { status?: number }).status === 413) throw tooLarge(ctx, maxBodyBytes);
      throw new HookbotError('request.malformed-body', `Malformed request body: ${(err as Error).message}`);
    }
    await next();
  };
  const parse: Middleware = (ctx, next) => {
    if (isRawBinary(ctx)) return readRaw(ctx, next);
    return isOAuth(ctx) ? parseOAuth(ctx, next) : parseOther(ctx, next);
  };
  return [checkUrl, checkType, parse, checkParsed];
}
