/** Prior authorization (Da Vinci PAS) routes under `/fhir/R4`. Each handler calls one operation. */
import Router from '@koa/router';
import type { Services } from '../services.js';
import { bindAdjudicationBot } from './bind.js';
import { submitPriorAuthorization } from './submit.js';

export function pasRouter(services: Services): Router {
  const router = new Router();
  router.post('/Claim/$submit', async (ctx) => {
    ctx.type = 'application/fhir+json';
    ctx.body = await submitPriorAuthorization({
      services,
      caller: ctx.state.caller,
      repo: ctx.state.repo,
      body: ctx.request.body,
      requestIds: ctx.state.ids,
    });
  });
  router.post('/Bot/:id/$bind-pas', async (ctx) => {
    ctx.body = await bindAdjudicationBot(services, ctx.state.caller, ctx.state.repo, ctx.params.id as string);
  });
  return router;
}
