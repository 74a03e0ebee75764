/** CDS Hooks routes: discovery, invocation, feedback, and the tenant's feedback statistics. */
import { TLSSocket } from 'node:tls';
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { accessFor } from '../auth/access-token.js';
import { callerProject } from '../auth/middleware.js';
import { bodyParsing } from '../infra/body.js';
import { forbidden } from '../infra/errors.js';
import { createRouter, ownAuthentication } from '../infra/router.js';
import type { Services } from '../services.js';
import { authenticateCdsCaller, type CdsCaller } from './authenticate.js';
import { discoverServices } from './discovery.js';
import { recordFeedback } from './feedback.js';
import { feedbackStats } from './feedback-stats.js';
import { invokeService } from './invoke.js';
import { feedbackTimeline, invocationStatistics, periodDays } from './service-stats.js';

/** The exact URL the client called, as the JWT `aud` must name it: on the mutual-TLS listener, its own address. */
function calledUrl(services: Services, ctx: Context): string {
  const { baseUrl, tls } = services.config;
  return `${tls && ctx.req.socket instanceof TLSSocket ? tls.baseUrl : baseUrl}${ctx.path}`;
}

export function cdsRouter(services: Services): Router {
  const router = createRouter();
  const caller = (ctx: Context): CdsCaller => ctx.state.cdsCaller;
  // The caller first, then the URL and body checks and parsing the app leaves to routes with their own authentication.
  const authenticated: Middleware[] = [
    async (ctx, next) => {
      const found = await authenticateCdsCaller(services, ctx.get('authorization'), calledUrl(services, ctx), ctx.req);
      await services.limits.perClient(found.clientId, found.projectId);
      ctx.state.cdsCaller = found;
      await next();
    },
    ...bodyParsing(services.config.maxBodyBytes),
  ];

  router.get('/cds-services', ownAuthentication, ...authenticated, async (ctx) => {
    const { projectId } = caller(ctx);
    ctx.body = { services: await discoverServices(services, projectId) };
  });

  router.post('/cds-services/:id', ownAuthentication, ...authenticated, async (ctx) => {
    ctx.body = await invokeService({
      services,
      caller: caller(ctx),
      serviceId: ctx.params.id as string,
      body: ctx.request.body,
      requestIds: ctx.state.ids,
    });
  });

  router.post('/cds-services/:id/feedback', ownAuthentication, ...authenticated, async (ctx) => {
    const count = await recordFeedback(services, caller(ctx), ctx.params.id as string, ctx.request.body);
    ctx.body = { recorded: count };
  });

  router.get('/cds-feedback/stats', async (ctx) => {
    const { caller } = ctx.state;
    const projectId = callerProject(caller);
    // The statistics are read from the feedback AuditEvents: the same access as searching them.
    if (!accessFor({ ...caller, projectId }).allows('AuditEvent', 's')) {
      throw forbidden('auth.forbidden-scope', 'Feedback statistics need read access to AuditEvent');
    }
    ctx.body = { services: await feedbackStats(services, projectId) };
  });

  // What the console's Services and Watch screens show; read from the AuditEvents, hence the same access check.
  const auditReader = (ctx: Context): string => {
    const { caller } = ctx.state;
    const projectId = callerProject(caller);
    if (!accessFor({ ...caller, projectId }).allows('AuditEvent', 's')) {
      throw forbidden('auth.forbidden-scope', 'Service statistics need read access to AuditEvent');
    }
    return projectId;
  };
  router.get('/cds-invocations/stats', async (ctx) => {
    const projectId = auditReader(ctx);
    ctx.body = await invocationStatistics(services, projectId, periodDays(ctx.query.days));
  });
  router.get('/cds-feedback/timeline', async (ctx) => {
    const projectId = auditReader(ctx);
    ctx.body = await feedbackTimeline(services, projectId, periodDays(ctx.query.days));
  });

  return router;
}
