/**
 * GET [base]/[type]/[id] and GET [base]/[type]/[id]/_history/[vid] (FHIR R4 http §3.1.0.2, §3.1.0.3); a Binary in
 * its own media type when the caller accepts no JSON (`binary.ts`). `If-None-Match` / `If-Modified-Since` answer 304
 * with no body, `If-Match` 412 (`preconditions.ts`); `_summary` and `_elements` answer a subset (`../subset.ts`).
 */
import type { RouterContext } from '@koa/router';
import type { Resource } from '@medplum/fhirtypes';
import { checkElements, parseSubset, subsetResource } from '../subset.js';
import { sendRawBinary } from './binary.js';
import { readStatus, refuseConditions, requestConditions } from './preconditions.js';
import { param, sendNotModified, sendResource } from './respond.js';

/**
 * What a read does with `If-None-Match` / `If-Modified-Since` (CapabilityStatement `conditionalRead`): both answer
 * 304 (`preconditions.ts`); `test/fhir-capability.test.ts` probes it.
 */
export const CONDITIONAL_READ: 'not-supported' | 'modified-since' | 'not-match' | 'full-support' = 'full-support';

async function send(ctx: RouterContext, read: () => Promise<Resource>, what: string): Promise<void> {
  const conditions = requestConditions(ctx);
  refuseConditions(conditions, ['ifMatch', 'ifNoneMatch', 'ifModifiedSince'], what);
  const subset = parseSubset(new URLSearchParams(ctx.querystring));
  checkElements(param(ctx, 'type'), subset);
  const resource = await read();
  if (readStatus(resource, conditions) === 304) return sendNotModified(ctx, resource);
  if (!subset && sendRawBinary(ctx, resource)) return;
  sendResource(ctx, subsetResource(resource, subset));
}

export async function readHandler(ctx: RouterContext): Promise<void> {
  await send(ctx, () => ctx.state.repo.read(param(ctx, 'type'), param(ctx, 'id')), 'read');
}

export async function vreadHandler(ctx: RouterContext): Promise<void> {
  await send(ctx, () => ctx.state.repo.vread(param(ctx, 'type'), param(ctx, 'id'), param(ctx, 'vid')), 'vread');
}
