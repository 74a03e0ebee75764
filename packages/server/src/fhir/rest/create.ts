/** POST [base]/[type] → 201 with Location (the new version) and ETag (FHIR R4 http §3.1.0.8 "create"). */
import type { RouterContext } from '@koa/router';
import { binaryReceipt, rawBinary } from './binary.js';
import { bodyResource, sendResource, versionLocation } from './respond.js';

export async function createHandler(ctx: RouterContext): Promise<void> {
  const raw = rawBinary(ctx);
  const created = await ctx.state.repo.create(raw ?? bodyResource(ctx));
  ctx.set('Location', versionLocation(ctx, created));
  sendResource(ctx, raw ? binaryReceipt(created) : created, 201);
}
