/**
 * Content negotiation (FHIR R4 http §3.1.0.1.10): the server speaks JSON only, so a request that asks for anything
 * else, by `_format` (`xml`, `ttl`, `text/turtle`…) or by an `Accept` that excludes JSON (`application/fhir+xml`),
 * answers 406 rather than JSON the client cannot read. A Binary read is the exception: an `Accept` without JSON asks
 * for its own content (`binary.ts`).
 */
import type { Middleware } from 'koa';
import { HookbotError } from '../../infra/errors.js';

const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);
const BINARY_READ = /\/Binary\/[^/]+(\/_history\/[^/]+)?$/;

export const acceptJsonOnly: Middleware = async (ctx, next) => {
  for (const format of new URLSearchParams(ctx.querystring).getAll('_format')) {
    if (!JSON_FORMATS.has((format.split(';')[0] ?? '').trim().toLowerCase())) {
      throw new HookbotError('request.not-acceptable', `_format ${format} is not supported: this server answers JSON`);
    }
  }
  const accept = ctx.get('Accept');
  const binaryRead = (ctx.method === 'GET' || ctx.method === 'HEAD') && BINARY_READ.test(ctx.path);
  if (accept && !binaryRead && !ctx.accepts('application/fhir+json', 'application/json')) {
    throw new HookbotError('request.not-acceptable', `Accept ${accept} names no JSON type: this server answers JSON`);
  }
  await next();
};
