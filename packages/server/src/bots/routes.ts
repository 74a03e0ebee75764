/** Bot operations under `/fhir/R4`: `$deploy`, `$execute` (POST and GET, and POST by identifier) and `$rollback`. */
import type Router from '@koa/router';
import { successOutcome } from '../infra/error-middleware.js';
import { createRouter } from '../infra/router.js';
import type { Bot } from '@medplum/fhirtypes';
import type { Context, Middleware } from 'koa';
import type { Repository } from '../fhir/repository.js';
import { badRequest, HookbotError, notFound } from '../infra/errors.js';
import type { Services } from '../services.js';
import { createProjectBot } from './create-bot.js';
import { checkDeployInput, deployBot } from './deploy.js';
import { executeBot } from './execute.js';
import { rollbackBot } from './rollback.js';
import { auditBotChange } from './audit-change.js';
import { ruleSetsOnly } from './rule-sets-only.js';

function sendResult(ctx: Context, result: unknown): void {
  if (typeof result === 'string') {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = result;
  } else {
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(result ?? null);
  }
}

/** The one Bot of the caller's project with this `system|value` identifier: 404 for none, 400 for several. */
async function botIdByIdentifier(repo: Repository, identifier: unknown): Promise<string> {
  if (typeof identifier !== 'string' || !/^[^|]*\|.+$/.test(identifier)) {
    throw badRequest('bot.invalid-request', '"identifier" must be one system|value', 'identifier');
  }
  const bots = await repo.searchResources<Bot>('Bot', { identifier, _count: '2' });
  if (bots.length > 1) {
    throw new HookbotError(
      'bot.ambiguous-identifier',
      `More than one Bot has the identifier ${identifier}: execute by id`,
    );
  }
  const id = bots[0]?.id;
  if (!id) throw notFound('fhir.not-found', `No Bot with the identifier ${identifier}`);
  return id;
}

export function botOperationsRouter(services: Services): Router {
  const router = createRouter();

  router.post('/Bot/:id/$deploy', async (ctx) => {
    const started = performance.now();
    const bot = await deployBot(services, ctx.state.repo, ctx.params.id as string, checkDeployInput(ctx.request.body));
    await auditBotChange(services, ctx.state.caller, 'deploy', bot, started);
    // Medplum answers an OperationOutcome (its CLI prints `issue[0].details.text`); the new version is in the ETag.
    const version = bot.meta?.versionId ?? '';
    ctx.set('ETag', `W/"${version}"`);
    ctx.set('Content-Location', `${ctx.state.repo.fhirBase}/Bot/${bot.id}/_history/${version}`);
    ctx.type = 'application/fhir+json';
    ctx.body = successOutcome(`Deployed Bot/${bot.id} version ${version}`, ctx.state.ids);
  });

  const execute = async (ctx: Context, input: unknown, botId = ctx.params.id as string) => {
    const { result } = await executeBot({
      services,
      caller: ctx.state.caller,
      repo: ctx.state.repo,
      botId,
      input,
      contentType: ctx.request.type || 'application/json',
      requestIds: ctx.state.ids,
    });
    sendResult(ctx, result);
  };
  router.post('/Bot/:id/$execute', (ctx) => execute(ctx, ctx.request.body));
  router.get('/Bot/:id/$execute', (ctx) => execute(ctx, { ...ctx.query }));
  // Medplum's execute by identifier (`executeBot({system, value})`).
  router.post('/Bot/$execute', async (ctx) =>
    execute(ctx, ctx.request.body, await botIdByIdentifier(ctx.state.repo, ctx.query.identifier)),
  );

  router.post('/Bot/:id/$rollback', async (ctx) => {
    const started = performance.now();
    const { caller, repo } = ctx.state;
    const bot = await rollbackBot(repo, ctx.params.id as string, ctx.request.body, ruleSetsOnly(caller));
    await auditBotChange(services, caller, 'rollback', bot, started);
    ctx.type = 'application/fhir+json';
    ctx.body = bot;
  });

  return router;
}

/** Medplum's admin routes that a bot developer's tools call: `POST /admin/projects/{id}/bot` (`create-bot.ts`). */
export function medplumAdminRouter(fhirContext: Middleware): Router {
  const router = createRouter('/admin');
  router.use(fhirContext);
  router.post('/projects/:id/bot', async (ctx) => {
    ctx.status = 201;
    ctx.type = 'application/fhir+json';
    ctx.body = await createProjectBot(ctx.state.repo, ctx.params.id as string, ctx.request.body);
  });
  return router;
}
