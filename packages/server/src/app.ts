/**
 * The Koa application: middleware in the order error handling → request ids → security headers → CORS → tenant
 * header stripping → body parsing → routes. Routes are composed from one router per domain.
 */
import cors from '@koa/cors';
import Router from '@koa/router';
import Koa from 'koa';
import './infra/koa-state.js';
import { adminRouter } from './admin/routes.js';
import { accessFor } from './auth/access-token.js';
import { callerFromRequest, callerProject, stripTenantHeaders } from './auth/middleware.js';
import { authRouter } from './auth/routes.js';
import { notifyingRepository } from './bots/bot-cache.js';
import { botOperationsRouter } from './bots/routes.js';
import { registerBotValidator } from './bots/validate-bot.js';
import { cdsRouter } from './cds/routes.js';
import { pasRouter } from './pas/routes.js';
import { deliveriesRouter } from './deliveries/routes.js';
import { ruleSetRouter } from './rules/routes.js';
import { createRepository } from './fhir/repository.js';
import { fhirRouter } from './fhir/routes.js';
import { bodyParsing } from './infra/body.js';
import { errorMiddleware } from './infra/error-middleware.js';
import { rateLimit } from './infra/rate-limit.js';
import { requestContext } from './infra/request-context.js';
import type { Services } from './services.js';

const securityHeaders: Koa.Middleware = async (ctx, next) => {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  await next();
};

export function createApp(services: Services): Koa {
  const { config } = services;
  registerBotValidator();
  const app = new Koa({ proxy: false });
  app.silent = true;

  app.use(errorMiddleware());
  app.use(requestContext(services.log));
  app.use(securityHeaders);
  app.use(
    cors({
      origin: (ctx) => ctx.get('Origin') || '*',
      allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowHeaders: [
        'Authorization',
        'Content-Type',
        'If-Match',
        'If-None-Exist',
        'Prefer',
        'X-Request-Id',
        'traceparent',
      ],
      exposeHeaders: [
        'X-Request-Id',
        'traceparent',
        'Location',
        'ETag',
        'Last-Modified',
        'WWW-Authenticate',
        'Retry-After',
      ],
      maxAge: 600,
    }),
  );
  app.use(stripTenantHeaders);
  for (const middleware of bodyParsing(config.maxBodyBytes)) app.use(middleware);

  const root = new Router();
  root.get('/healthcheck', async (ctx) => {
    const [db, redis] = await Promise.all([
      services.db.query('SELECT 1').then(
        () => 'ok',
        () => 'error',
      ),
      services.shared.kind === 'embedded'
        ? Promise.resolve('embedded')
        : services.shared.ping().then((ok) => (ok ? 'ok' : 'error')),
    ]);
    // An in-process runtime that met a fatal isolate error must be restarted: report it so the orchestrator does.
    const runtime = services.runtime.stats().healthy ? 'ok' : 'unhealthy';
    const ok = db === 'ok' && redis !== 'error' && runtime === 'ok';
    ctx.status = ok ? 200 : 503;
    ctx.body = ok ? { ok, db, redis } : { ok, db, redis, runtime };
  });

  const perClient = rateLimit(
    services.shared,
    config.rateLimitPerMinute,
    (ctx) => `client:${ctx.state.caller?.clientId}`,
  );
  const fhirBase = `${config.baseUrl}/fhir/R4`;
  const fhirAuth: Koa.Middleware = async (ctx, next) => {
    ctx.state.baseUrl = fhirBase;
    if (ctx.path === '/fhir/R4/metadata') return next();
    ctx.state.caller = await callerFromRequest(ctx, services);
    await perClient(ctx, async () => {
      const access = accessFor({ ...ctx.state.caller, projectId: callerProject(ctx.state.caller) });
      ctx.state.repo = notifyingRepository(createRepository(services.db, access, { baseUrl: fhirBase }), services.bots);
      await next();
    });
  };
  const fhir = new Router({ prefix: '/fhir/R4' });
  fhir.use(fhirAuth);
  const botRoutes = botOperationsRouter(services);
  const ruleRoutes = ruleSetRouter(services);
  const fhirRoutes = fhirRouter();
  fhir.use(ruleRoutes.routes());
  fhir.use(botRoutes.routes());
  fhir.use(pasRouter(services).routes());
  fhir.use(deliveriesRouter(services).routes());
  fhir.use(fhirRoutes.routes(), fhirRoutes.allowedMethods({ throw: true }));

  for (const router of [root, authRouter(services), adminRouter(services), cdsRouter(services), fhir]) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}
