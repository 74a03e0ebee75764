/**
 * GET [base]/[type]?params and POST [base]/[type]/_search with a form body (FHIR R4 http §3.1.0.10 "search");
 * on POST the URL's query and the body's parameters both count.
 */
import type { RouterContext } from '@koa/router';
import { badRequest } from '../../infra/errors.js';
import { queryEntries } from '../search/parse.js';
import { refuseConditions, requestConditions } from './preconditions.js';
import { param, sendJson } from './respond.js';

export async function searchHandler(ctx: RouterContext): Promise<void> {
  refuseConditions(requestConditions(ctx), [], 'search');
  sendJson(ctx, await ctx.state.repo.search(param(ctx, 'type'), new URLSearchParams(ctx.querystring)));
}

export async function searchPostHandler(ctx: RouterContext): Promise<void> {
  refuseConditions(requestConditions(ctx), [], 'search');
  const query = new URLSearchParams(ctx.querystring);
  for (const [key, value] of queryEntries(searchParameters((ctx.request as { body?: unknown }).body ?? {}))) {
    query.append(key, value);
  }
  sendJson(ctx, await ctx.state.repo.search(param(ctx, 'type'), query));
}

const isValue = (v: unknown): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v);

/**
 * A form, or a JSON object of values or arrays of values. Anything else (a JSON array, a nested object) would
 * otherwise search with none of the parameters meant, or with "[object Object]": a wrong answer, not an error.
 */
function searchParameters(body: unknown): Record<string, string[]> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('fhir.invalid-search', 'The _search body must be search parameters: a form or a JSON object');
  }
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(body)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (!values.every(isValue)) {
      throw badRequest('fhir.invalid-search', `Search parameter "${key}" must be a value or a list of values`, key);
    }
    out[key] = values.map(String);
  }
  return out;
}
