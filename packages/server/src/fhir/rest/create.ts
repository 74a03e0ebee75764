/**
 * POST [base]/[type] → 201 with Location (the new version) and ETag (FHIR R4 http §3.1.0.8 "create"); with
 * `If-None-Exist: search` (§3.1.0.8.1) one match answers 200 with that resource, several a 412.
 */
import type { RouterContext } from '@koa/router';
import { binaryReceipt, rawBinary } from './binary.js';
import { createIfNoneExist } from './conditional.js';
import { refuseConditions, requestConditions } from './preconditions.js';
import { bodyResource, sendResource, versionLocation } from './respond.js';

export async function createHandler(ctx: RouterContext): Promise<void> {
  const conditions = requestConditions(ctx);
  refuseConditions(conditions, ['ifNoneExist'], 'create');
  const raw = rawBinary(ctx);
  const written = await createIfNoneExist(ctx.state.repo, raw ?? bodyResource(ctx), conditions.ifNoneExist);
  if (written.created) ctx.set('Location', versionLocation(ctx, written.resource));
  sendResource(ctx, raw ? binaryReceipt(written.resource) : written.resource, written.created ? 201 : 200);
}
