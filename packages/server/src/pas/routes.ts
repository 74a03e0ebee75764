/** Prior authorization (Da Vinci PAS) routes under `/fhir/R4`. Each handler calls one operation. */
import Router from '@koa/router';
import type { Context } from 'koa';
import { contributeCapabilities } from '../fhir/rest/metadata.js';
import type { Services } from '../services.js';
import { pasCapabilities } from './capabilities.js';
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
  contributeCapabilities(pasCapabilities);
  const router = new Router();
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
  return router;
}
