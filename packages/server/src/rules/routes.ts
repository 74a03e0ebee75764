/**
 * Rule-set operations under `/fhir/R4`: `Bot/$deploy-rules`, `Bot/$test-rules`, `Bot/$validate-rules`,
 * `Bot/$preview-rules`, `Bot/$evaluate-fact`, `Bot/{id}/$rule-set` and `Bot/{id}/$rule-set-diff`.
 */
import type Router from '@koa/router';
import { auditBotChange } from '../bots/audit-change.js';
import { ruleSetsOnly } from '../bots/rule-sets-only.js';
import { forbidden } from '../infra/errors.js';
import { createRouter } from '../infra/router.js';
import type { Services } from '../services.js';
import { deployRuleSet } from './deploy-rule-set.js';
import { evaluateFact } from './evaluate-fact.js';
import { previewRuleSet } from './preview-rule-set.js';
import { ruleSetAt, ruleSetDiff } from './rule-set-versions.js';
import { testRuleSet } from './test-rule-set.js';
import { validateRuleSetBody } from './validate-rule-set.js';

export function ruleSetRouter(services: Services): Router {
  const router = createRouter();
  router.post('/Bot/$deploy-rules', async (ctx) => {
    const started = performance.now();
    const { caller, repo } = ctx.state;
    const deployed = await deployRuleSet(services, repo, ctx.request.body, ruleSetsOnly(caller));
    await auditBotChange(services, caller, 'deploy-rules', deployed.bot, started);
    ctx.status = deployed.created ? 201 : 200;
    ctx.body = deployed;
  });
  router.post('/Bot/$test-rules', async (ctx) => {
    ctx.body = await testRuleSet(services, ctx.state.repo, ctx.request.body);
  });
  router.post('/Bot/$validate-rules', (ctx) => {
    // Pure checks, no data read: still only for those who may read Bots, as every rule-set operation.
    if (!ctx.state.repo.access.allows('Bot', 'r'))
      throw forbidden('auth.forbidden-scope', 'Validating rule sets needs read access to Bot');
    ctx.body = validateRuleSetBody(ctx.request.body);
  });
  router.post('/Bot/$preview-rules', async (ctx) => {
    ctx.body = await previewRuleSet(services, ctx.state.repo, ctx.request.body);
  });
  router.post('/Bot/$evaluate-fact', async (ctx) => {
    ctx.body = await evaluateFact(services, ctx.state.repo, ctx.request.body);
  });
  router.get('/Bot/:id/$rule-set', async (ctx) => {
    const version = typeof ctx.query.version === 'string' ? ctx.query.version : undefined;
    ctx.body = await ruleSetAt(ctx.state.repo, ctx.params.id as string, version);
  });
  router.get('/Bot/:id/$rule-set-diff', async (ctx) => {
    ctx.body = await ruleSetDiff(ctx.state.repo, ctx.params.id as string, ctx.query);
  });
  return router;
}
