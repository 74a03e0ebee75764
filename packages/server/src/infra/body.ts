/**
 * Request bodies: size-limited (413), JSON in its three spellings (`application/json`, `application/fhir+json` and
 * the legacy `application/json+fhir`, any charset), form-encoded where OAuth and FHIR `_search` need it, plain text
 * for bot input. Anything else with a body is a 415. `__proto__` keys in JSON are refused by co-body's parser.
 */
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import { HookbotError } from './errors.js';

export const JSON_TYPES = ['application/json', 'application/fhir+json', 'application/json+fhir'];
const FORM = 'application/x-www-form-urlencoded';
const TEXT = 'text/plain';

/** Which body types a path accepts; the first matching prefix wins. */
const ACCEPTED: [test: (path: string) => boolean, types: string[]][] = [
  [(p) => p === '/oauth2/token', [FORM]],
  [(p) => p.startsWith('/fhir/') && p.endsWith('/_search'), [FORM, ...JSON_TYPES]],
  [(p) => p.startsWith('/fhir/') && p.endsWith('/$execute'), [...JSON_TYPES, TEXT, FORM]],
  [() => true, JSON_TYPES],
];

function hasBody(ctx: Context): boolean {
  const length = ctx.get('content-length');
  return (length !== '' && length !== '0') || ctx.get('transfer-encoding') !== '';
}

export function bodyParsing(maxBodyBytes: number): Middleware[] {
  const checkType: Middleware = async (ctx, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(ctx.method) && hasBody(ctx)) {
      const accepted = ACCEPTED.find(([test]) => test(ctx.path))?.[1] ?? JSON_TYPES;
      const declared = Number(ctx.get('content-length'));
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        throw new HookbotError(413, 'too-costly', `Request body exceeds the limit of ${maxBodyBytes} bytes`);
      }
      if (!ctx.is(accepted)) {
        const message = `Content-Type "${ctx.get('content-type') || '(none)'}" is not accepted here; send ${accepted.join(' or ')}`;
        if (ctx.path.startsWith('/oauth2/')) {
          throw new HookbotError(400, 'not-supported', message, { oauthError: 'invalid_request' });
        }
        throw new HookbotError(415, 'not-supported', message);
      }
    }
    await next();
  };
  const parse = bodyParser({
    enableTypes: ['json', 'form', 'text'],
    extendTypes: { json: JSON_TYPES },
    jsonLimit: maxBodyBytes,
    formLimit: maxBodyBytes,
    textLimit: maxBodyBytes,
    jsonStrict: true,
    onError: (err: Error) => {
      const status = (err as { status?: number }).status ?? 400;
      if (status === 413) {
        throw new HookbotError(413, 'too-costly', `Request body exceeds the limit of ${maxBodyBytes} bytes`);
      }
      throw new HookbotError(400, 'structure', `Malformed request body: ${err.message}`);
    },
  });
  return [checkType, parse];
}
