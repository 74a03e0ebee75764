/**
 * PUT [base]/[type]/[id] → 200, or 201 when it created the resource (FHIR R4 http §3.1.0.4 "update").
 * `If-Match: W/"n"` makes it conditional on the current version (412 otherwise, §3.1.0.5 "managing contention").
 */
import type { RouterContext } from '@koa/router';
import { badRequest } from '../../infra/errors.js';
import { binaryReceipt, rawBinary } from './binary.js';
import { bodyResource, param, sendResource, versionLocation } from './respond.js';

export async function updateHandler(ctx: RouterContext): Promise<void> {
  const raw = rawBinary(ctx, param(ctx, 'id'));
  const resource = raw ?? bodyResource(ctx);
  if (resource.id !== param(ctx, 'id')) {
    throw badRequest(
      'fhir.invalid-resource',
      `Resource id must match the URL (${param(ctx, 'id')})`,
      `${resource.resourceType}.id`,
    );
  }
  const ifMatch = ctx.get('If-Match');
  const updated = await ctx.state.repo.update(resource, ifMatch ? { ifMatch } : {});
  const created = updated.meta?.versionId === '1';
  if (created) {
    ctx.set('Location', versionLocation(ctx, updated));
  }
  sendResource(ctx, raw ? binaryReceipt(updated) : updated, created ? 201 : 200);
}
