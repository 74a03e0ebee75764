/** Bot operations under `/fhir/R4`: `$deploy`, `$execute` (POST and GET) and `$rollback`. */
import type Router from '@koa/router';
import { createRouter } from '../infra/router.js';
import type { Context } from 'koa';
import type { Services } from '../services.js';
import { checkDeployInput, deployBot } from './deploy.js';
import { executeBot } from './execute.js';
import { rollbackBot } from './rollback.js';

function sendResult(ctx: Context, result: unknown): void {
  if (typeof result === 'string') {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = result;
  } else {
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(result ?? null);
  }
}

export function botOperationsRouter(services: Services): Router {
  const router = createRouter();

  router.post('/Bot/:id/$deploy', async (ctx) => {
    const bot = await deployBot(services, ctx.state.repo, ctx.params.id as string, checkDeployInput(ctx.request.body));
    ctx.type = 'application/fhir+json';
    ctx.body = bot;
  });

  const execute = async (ctx: Context, input: unknown) => {
    const { result } = await executeBot({
      services,
      caller: ctx.state.caller,
      repo: ctx.state.repo,
      botId: ctx.params.id as string,
      input,
      contentType: ctx.request.type || 'application/json',
      requestIds: ctx.state.ids,
    });
    sendResult(ctx, result);
  };
  router.post('/Bot/:id/$execute', (ctx) => execute(ctx, ctx.request.body));
  router.get('/Bot/:id/$execute', (ctx) => execute(ctx, { ...ctx.query }));

  router.post('/Bot/:id/$rollback', async (ctx) => {
    ctx.type = 'application/fhir+json';
    ctx.body = await rollbackBot(ctx.state.repo, ctx.params.id as string, ctx.request.body);
  });

  return router;
}
