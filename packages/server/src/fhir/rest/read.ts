/** GET [base]/[type]/[id] and GET [base]/[type]/[id]/_history/[vid] (FHIR R4 http §3.1.0.2, §3.1.0.3). */
import type { RouterContext } from '@koa/router';
import { param, sendResource } from './respond.js';

export async function readHandler(ctx: RouterContext): Promise<void> {
  sendResource(ctx, await ctx.state.repo.read(param(ctx, 'type'), param(ctx, 'id')));
}

export async function vreadHandler(ctx: RouterContext): Promise<void> {
  sendResource(ctx, await ctx.state.repo.vread(param(ctx, 'type'), param(ctx, 'id'), param(ctx, 'vid')));
}
