/** GET [base]/[type]/[id]/_history → a history Bundle, newest first (FHIR R4 http §3.1.0.9). */
import type { RouterContext } from '@koa/router';
import { param, sendJson } from './respond.js';

export async function historyHandler(ctx: RouterContext): Promise<void> {
  sendJson(ctx, await ctx.state.repo.history(param(ctx, 'type'), param(ctx, 'id')));
}
