/**
 * DELETE [base]/[type]/[id] → 204 (FHIR R4 http §3.1.0.7 "delete"); the history keeps the deletion. `If-Match`
 * makes it conditional on the current version (412 otherwise).
 */
import type { RouterContext } from '@koa/router';
import { refuseConditions, requestConditions } from './preconditions.js';
import { param } from './respond.js';

export async function deleteHandler(ctx: RouterContext): Promise<void> {
  const conditions = requestConditions(ctx);
  refuseConditions(conditions, ['ifMatch'], 'delete');
  await ctx.state.repo.delete(param(ctx, 'type'), param(ctx, 'id'), conditions.ifMatch);
  ctx.status = 204;
}
