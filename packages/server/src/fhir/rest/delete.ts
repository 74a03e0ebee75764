/** DELETE [base]/[type]/[id] → 204 (FHIR R4 http §3.1.0.7 "delete"); the history keeps the deletion. */
import type { RouterContext } from '@koa/router';
import { param } from './respond.js';

export async function deleteHandler(ctx: RouterContext): Promise<void> {
  await ctx.state.repo.delete(param(ctx, 'type'), param(ctx, 'id'));
  ctx.status = 204;
}
