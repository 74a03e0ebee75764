/**
 * `Bot/$preview-rules`: what a rule set (deployed or not) answers to one hook request, checked as a CDS call's
 * answer is (CDS Hooks 2.0, CRD when the rule set says so), with the EHR-rendering warnings: the console's test
 * panel shows these cards as an EHR would, and saves the request with its observed cards as a test case. Runs the
 * bot a deploy would build, in the sandbox with a deployed rule set's limits.
 */
import { createHash } from 'node:crypto';
import { buildRuleBotCode } from '@hookbot/bots/build';
import { PRIOR_AUTHORIZATION, validateCdsResponse, type CdsResponseValidation } from '@hookbot/bots';
import type { Bot } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.js';
import { badRequest, forbidden, HookbotError } from '../infra/errors.js';
import type { Services } from '../services.js';
import { runBot, runFailureError } from '../bots/run-bot.js';
import { checkRuleSet } from './deploy-rule-set.js';

const PREVIEW_ID = '$preview-rules';

export interface RuleSetPreview {
  response: unknown;
  valid: boolean;
  errors: CdsResponseValidation['errors'];
  warnings: CdsResponseValidation['warnings'];
}

export async function previewRuleSet(services: Services, repo: Repository, body: unknown): Promise<RuleSetPreview> {
  if (!repo.access.allows('Bot', 'r'))
    throw forbidden('auth.forbidden-scope', 'Previewing rule sets needs read access to Bot');
  const { ruleSet, request } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const doc = checkRuleSet(ruleSet);
  if (doc.hook === PRIOR_AUTHORIZATION)
    throw badRequest(
      'rules.invalid-rule-set',
      'A prior-authorization rule set answers no hook: test it with its cases',
      'ruleSet/hook',
    );
  if (typeof request !== 'object' || request === null || (request as { hook?: unknown }).hook !== doc.hook)
    throw badRequest('rules.invalid-fact', `"request" must be a CDS Hooks request for the hook ${doc.hook}`, 'request');
  const code = await buildRuleBotCode(doc);
  const run = await runBot({
    projectId: repo.access.projectId,
    bot: { resourceType: 'Bot', id: PREVIEW_ID, name: doc.title } as Bot,
    code: {
      version: createHash('sha256').update(code).digest('hex').slice(0, 32),
      code,
      filename: `${doc.id}.js`,
      trusted: true,
    },
    event: request,
    host: () => Promise.reject(new HookbotError('bot.client-method-not-allowed', 'Rule sets make no client calls')),
    runtime: services.runtime,
  });
  if (!run.ok) throw runFailureError(run);
  const checked = validateCdsResponse(run.result, { hook: doc.hook, crd: doc.crd === true });
  return {
    response: checked.response ?? run.result,
    valid: checked.valid,
    errors: checked.errors,
    warnings: checked.warnings,
  };
}
