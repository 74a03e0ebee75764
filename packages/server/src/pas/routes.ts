/**
 * Prior authorization (Da Vinci PAS) and its delivery routes under `/fhir/R4`, in a router of their own that the
 * app tries before the FHIR API's: partners reach these routes and no other FHIR route (`access.ts`). Each handler
 * calls one operation.
 */
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { callerProject } from '../auth/middleware.js';
import { notifyingRepository } from '../bots/bot-cache.js';
import { addDeliveryRoutes } from '../deliveries/routes.js';
import { createRepository } from '../fhir/repository.js';
import { createRouter } from '../infra/router.js';
import type { Services } from '../services.js';
import { pasAccess } from './access.js';
import { submitAttachment } from './attachment.js';
import { bindAdjudicationBot } from './bind.js';
import { decidePriorAuthorization } from './decide.js';
import { inquirePriorAuthorization } from './inquire.js';
import { submitPriorAuthorization } from './submit.js';

const args = (services: Services, ctx: Context) => ({
  services,
  caller: ctx.state.caller,
  repo: ctx.state.repo,
  body: ctx.request.body,
  requestIds: ctx.state.ids,
});

export function pasRouter(services: Services): Router {
  const fhirBase = `${services.config.baseUrl}/fhir/R4`;
  const router = createRouter('/fhir/R4');
  // Runs only for a request that reaches one of these routes, all of which need a caller (`auth/route-access.ts`).
  const pasContext: Middleware = async (ctx, next) => {
    const { caller } = ctx.state;
    ctx.state.baseUrl = fhirBase;
    const access = pasAccess({ ...caller, projectId: callerProject(caller) });
    ctx.state.repo = notifyingRepository(createRepository(services.db, access, { baseUrl: fhirBase }), services.bots);
    await next();
  };
  router.use(pasContext);
  router.post('/Claim/$submit', async (ctx) => {
    ctx.type = 'application/fhir+json';
    ctx.body = await submitPriorAuthorization(args(services, ctx));
  });
  router.post('/Claim/$inquire', async (ctx) => {
    ctx.type = 'application/fhir+json';
    ctx.body = await inquirePriorAuthorization(args(services, ctx));
  });
  router.post('/ClaimResponse/:id/$decide', async (ctx) => {
    ctx.type = 'application/fhir+json';
    ctx.body = await decidePriorAuthorization({ ...args(services, ctx), id: ctx.params.id as string });
  });
  router.post('/$submit-attachment', async (ctx) => {
    ctx.type = 'application/fhir+json';
    ctx.body = await submitAttachment(args(services, ctx));
  });
  router.post('/Bot/:id/$bind-pas', async (ctx) => {
    ctx.body = await bindAdjudicationBot(services, ctx.state.caller, ctx.state.repo, ctx.params.id as string);
  });
  addDeliveryRoutes(router, services);
  return router;
}
