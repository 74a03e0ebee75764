/** CDS Hooks routes: discovery, invocation, feedback, and the tenant's feedback statistics. */
import Router from '@koa/router';
import type { Context } from 'koa';
import { callerFromRequest, callerProject } from '../auth/middleware.js';
import type { Services } from '../services.js';
import { authenticateCdsCaller } from './authenticate.js';
import { discoverServices } from './discovery.js';
import { recordFeedback } from './feedback.js';
import { feedbackStats } from './feedback-stats.js';
import { invokeService } from './invoke.js';

/** The exact URL the client called, as the JWT `aud` must name it. */
function calledUrl(services: Services, ctx: Context): string {
  return `${services.config.baseUrl}${ctx.path}`;
}

export function cdsRouter(services: Services): Router {
  const router = new Router();
  const caller = (ctx: Context) => authenticateCdsCaller(services, ctx.get('authorization'), calledUrl(services, ctx));

  router.get('/cds-services', async (ctx) => {
    const { projectId } = await caller(ctx);
    ctx.body = { services: await discoverServices(services, projectId) };
  });

  router.post('/cds-services/:id', async (ctx) => {
    ctx.body = await invokeService({
      services,
      caller: await caller(ctx),
      serviceId: ctx.params.id as string,
      body: ctx.request.body,
      requestIds: ctx.state.ids,
    });
  });

  router.post('/cds-services/:id/feedback', async (ctx) => {
    const count = await recordFeedback(services, await caller(ctx), ctx.params.id as string, ctx.request.body);
    ctx.body = { recorded: count };
  });

  router.get('/cds-feedback/stats', async (ctx) => {
    const projectId = callerProject(await callerFromRequest(ctx, services));
    ctx.body = { services: await feedbackStats(services, projectId) };
  });

  return router;
}
