/**
 * GET [base]/[type]?params and POST [base]/[type]/_search with a form body (FHIR R4 http §3.1.0.10 "search");
 * on POST the URL's query and the body's parameters both count.
 */
import type { RouterContext } from '@koa/router';
import { queryEntries } from '../search/parse.js';
import { param, sendJson } from './respond.js';

export async function searchHandler(ctx: RouterContext): Promise<void> {
  sendJson(ctx, await ctx.state.repo.search(param(ctx, 'type'), new URLSearchParams(ctx.querystring)));
}

export async function searchPostHandler(ctx: RouterContext): Promise<void> {
  const query = new URLSearchParams(ctx.querystring);
  const body = (ctx.request as { body?: unknown }).body;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    for (const [key, value] of queryEntries(body as Record<string, string | string[]>)) {
      query.append(key, String(value));
    }
  }
  sendJson(ctx, await ctx.state.repo.search(param(ctx, 'type'), query));
}
