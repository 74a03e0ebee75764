/**
 * GET [base]/[type]/[id] and GET [base]/[type]/[id]/_history/[vid] (FHIR R4 http §3.1.0.2, §3.1.0.3); a Binary in
 * its own media type when the caller accepts no JSON (`binary.ts`).
 */
import type { RouterContext } from '@koa/router';
import type { Resource } from '@medplum/fhirtypes';
import { sendRawBinary } from './binary.js';
import { param, sendResource } from './respond.js';

/**
 * What a read does with `If-None-Match` / `If-Modified-Since` (CapabilityStatement `conditionalRead`): nothing yet,
 * so the statement says `not-supported`; change it here with the support (`test/fhir-capability.test.ts` probes it).
 */
export const CONDITIONAL_READ: 'not-supported' | 'modified-since' | 'not-match' | 'full-support' = 'not-supported';

const send = (ctx: RouterContext, resource: Resource) => sendRawBinary(ctx, resource) || sendResource(ctx, resource);

export async function readHandler(ctx: RouterContext): Promise<void> {
  send(ctx, await ctx.state.repo.read(param(ctx, 'type'), param(ctx, 'id')));
}

export async function vreadHandler(ctx: RouterContext): Promise<void> {
  send(ctx, await ctx.state.repo.vread(param(ctx, 'type'), param(ctx, 'id'), param(ctx, 'vid')));
}
