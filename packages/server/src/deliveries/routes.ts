/** Delivery routes under `/fhir/R4`: PAS Subscriptions and partner callbacks. */
import type Router from '@koa/router';
import type { Services } from '../services.js';
import { registerCallback } from './callbacks.js';
import { createPasSubscription, subscriptionStatus } from './subscriptions.js';

/** Adds the delivery routes to `router` (the PAS router, whose context gives `ctx.state.repo`). */
export function addDeliveryRoutes(router: Router, services: Services): void {
  router.post('/Subscription', async (ctx) => {
    const created = await createPasSubscription(services, ctx.state.caller, ctx.state.repo, ctx.request.body);
    ctx.status = 201;
    ctx.type = 'application/fhir+json';
    ctx.set(
      'Location',
      `${ctx.state.repo.fhirBase}/Subscription/${created.id}/_history/${created.meta?.versionId ?? '1'}`,
    );
    ctx.body = created;
  });
  router.get('/Subscription/:id/$status', async (ctx) => {
    ctx.type = 'application/fhir+json';
    ctx.body = await subscriptionStatus(services, ctx.state.caller, ctx.state.repo, ctx.params.id as string);
  });
  router.post('/$pas-callback', async (ctx) => {
    ctx.body = await registerCallback(services, ctx.state.caller, ctx.state.repo, ctx.request.body);
  });
}
