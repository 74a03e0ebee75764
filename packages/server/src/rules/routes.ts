/** Rule-set operations under `/fhir/R4`: `Bot/$deploy-rules` and `Bot/$test-rules`. */
import type Router from '@koa/router';
import { auditBotChange } from '../bots/audit-change.js';
import { ruleSetsOnly } from '../bots/rule-sets-only.js';
import { createRouter } from '../infra/router.js';
import type { Services } from '../services.js';
import { deployRuleSet } from './deploy-rule-set.js';
import { testRuleSet } from './test-rule-set.js';

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
  return router;
}
