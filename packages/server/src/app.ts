/**
 * The Koa application: middleware in the order error handling → request ids → security headers → CORS → tenant
 * header stripping → canonical paths → authentication → body parsing (by the route itself on the routes that
 * authenticate their callers themselves, once they have) → routes. Routes are composed from one router
 * per domain; authentication asks those same routers which route a request reaches (`auth/route-access.ts`).
 */
import cors from '@koa/cors';
import type Router from '@koa/router';
import Koa from 'koa';
import './koa-state.js';
import { adminRouter } from './admin/routes.js';
import { accessFor } from './auth/access-token.js';
import { callerProject, stripTenantHeaders } from './auth/middleware.js';
import { authenticateRoutes } from './auth/route-access.js';
import { patientAccessGuard } from './auth/patient-access.js';
import { authRouter } from './auth/routes.js';
import { smartConfigurationOf } from './auth/smart-configuration.js';
import { notifyingRepository } from './bots/bot-cache.js';
import { botOperationsRouter, medplumAdminRouter } from './bots/routes.js';
import { registerBotValidator } from './bots/validate-bot.js';
import { cdsRouter } from './cds/routes.js';
import { consoleRouter } from './console/routes.js';
import { memberLoginRouter } from './member-login/routes.js';
import { usersRouter } from './users/routes.js';
import { pasRouter } from './pas/routes.js';
import { ruleSetRouter } from './rules/routes.js';
import { BOT_OPERATIONS } from './bots/operation-definitions.js';
import { DELIVERY_OPERATIONS } from './deliveries/operation-definitions.js';
import { BULK_EXPORT_OPERATIONS } from './fhir/capability/bulk-export-definitions.js';
import { servedRoutes } from './fhir/capability/served-routes.js';
import { lazyCapabilities } from './fhir/capability/statement.js';
import { createRepository } from './fhir/repository.js';
import { exportRouter } from './fhir/export/routes.js';
import { pasCapabilities } from './pas/capabilities.js';
import { PAS_OPERATIONS } from './pas/operation-definitions.js';
import { RULE_SET_OPERATIONS } from './rules/operation-definitions.js';
import { bundleRouter, fhirRouter } from './fhir/routes.js';
import { bodyParsing } from './infra/body.js';
import { canonicalPath } from './infra/canonical-path.js';
import { errorMiddleware } from './infra/error-middleware.js';
import { requestContext } from './infra/request-context.js';
import { createRouter, publicRoute } from './infra/router.js';
import { operatorRoutes } from './operator-routes.js';
import type { Services } from './services.js';

const securityHeaders: Koa.Middleware = async (ctx, next) => {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  await next();
};

/**
 * Browsers may call what EHR apps call with bearer tokens: CDS Hooks, FHIR and the discovery documents. The answer
 * carries no credentials and allows any origin (the caller's, echoed): the console's session cookie is
 * `SameSite=Strict`, a cross-origin page cannot read an answer made with it (no `Access-Control-Allow-Credentials`)
 * nor send its CSRF header (not in `allowHeaders`). The admin API,
 * the token endpoint and the rest get no CORS headers: a web page cannot read their answers, nor send them a token
 * or a JSON body.
 */
const CORS_OPEN = /^\/(?:cds-services(?:\/|$)|fhir\/R4(?:\/|$)|\.well-known\/)/;

export function createApp(services: Services): Koa {
  const { config } = services;
  registerBotValidator();
  // X-Forwarded-For is believed only for the proxies the operator counts; without them it is ignored.
  const app = new Koa({ proxy: config.trustProxyHops > 0, maxIpsCount: config.trustProxyHops });
  app.silent = true;

  app.use(errorMiddleware());
  app.use(requestContext(services.log, services.metrics));
  app.use(securityHeaders);
  app.use(
    cors({
      origin: (ctx) => (CORS_OPEN.test(ctx.path) ? ctx.get('Origin') || '*' : ''),
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
  app.use(canonicalPath);

  const routers = createRouters(services);
  app.use(authenticateRoutes(routers, services));
  for (const middleware of bodyParsing(config.maxBodyBytes)) {
    app.use((ctx, next) => (ctx.state.ownAuthentication ? next() : middleware(ctx, next)));
  }
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}

/** The app's routers, in the order they are tried. */
export function createRouters(services: Services): Router[] {
  const { config } = services;
  const root = createRouter();
  root.get('/healthcheck', publicRoute, async (ctx) => {
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
  operatorRoutes(root, services);

  const fhirBase = `${config.baseUrl}/fhir/R4`;
  // Not authentication (done before routing) but the caller's view of the store; the public metadata route has none.
  const fhirContext: Koa.Middleware = async (ctx, next) => {
    ctx.state.baseUrl = fhirBase;
    const { caller } = ctx.state as { caller?: typeof ctx.state.caller };
    if (caller) {
      const access = accessFor({ ...caller, projectId: callerProject(caller) });
      ctx.state.repo = notifyingRepository(createRepository(services.db, access, { baseUrl: fhirBase }), services.bots);
    }
    await next();
  };
  const fhir = createRouter('/fhir/R4');
  // A member app reads its member's records only, on every /fhir/R4 route, the Bundle route beside it included.
  const memberGuard = patientAccessGuard(services, '/fhir/R4');
  fhir.use(memberGuard);
  fhir.use(fhirContext);
  const botRoutes = botOperationsRouter(services);
  const ruleRoutes = ruleSetRouter(services);
  // The statement describes every router's /fhir/R4 routes: read when first asked for, once all exist.
  let routers: Router[] = [];
  const fhirRoutes = fhirRouter(
    lazyCapabilities(() => {
      const smart = smartConfigurationOf(config);
      return {
        fhirBase,
        routes: servedRoutes(routers),
        operations: [
          ...BOT_OPERATIONS,
          ...RULE_SET_OPERATIONS,
          ...PAS_OPERATIONS,
          ...DELIVERY_OPERATIONS,
          ...BULK_EXPORT_OPERATIONS,
        ],
        security: {
          smartConfiguration: `${fhirBase}/.well-known/smart-configuration`,
          tokenEndpoint: smart.token_endpoint,
          authorizationEndpoint: smart.authorization_endpoint,
          introspectionEndpoint: smart.introspection_endpoint,
          revocationEndpoint: smart.revocation_endpoint,
          cors: CORS_OPEN.test('/fhir/R4/metadata'),
        },
        contributions: [pasCapabilities],
      };
    }),
  );
  fhir.use(ruleRoutes.routes());
  fhir.use(botRoutes.routes());
  // Before the resource routes, whose `/:type` and `/:type/:id` would take `$export` for a type.
  const exportRoutes = exportRouter({
    db: services.db,
    maxJobsPerProject: config.export.maxJobsPerProject,
    queued: () => services.exports.wake(),
  });
  fhir.use(exportRoutes.routes());
  fhir.use(fhirRoutes.routes(), fhirRoutes.allowedMethods({ throw: true }));
  // Medplum's bot creation (`medplum bot create`) sits under /admin but works on the caller's own project.
  const medplumAdmin = medplumAdminRouter(fhirContext);

  // Beside the /fhir/R4 router, which cannot serve its own prefix: the same guard and context.
  const bundles = bundleRouter(config.maxBundleEntries, memberGuard, fhirContext);

  // Prior authorization before the FHIR API: its routes (and `POST Subscription`) are its own, partners included.
  routers = [
    root,
    consoleRouter(),
    authRouter(services),
    memberLoginRouter(services),
    usersRouter(services),
    adminRouter(services),
    medplumAdmin,
    cdsRouter(services),
    pasRouter(services),
    bundles,
    fhir,
  ];
  return routers;
}
