/**
 * `Bot/$evaluate-fact`: what one FHIRPath fact gives on a sample hook request, for each order a rule set would
 * judge there (`%order` bound to it), as the rules would see it: the console's fact explorer, and the CLI's. The
 * expression goes through a rule set's checks first (allowed functions, length; 400 with the same message as
 * `hookbot rules validate`) and runs in the sandbox with a deployed rule set's limits, never on the event loop.
 */
import { createHash } from 'node:crypto';
import { buildFactExplorerCode } from '@hookbot/bots/build';
import { PRIOR_AUTHORIZATION, validateRuleSet, type ExplainedFacts } from '@hookbot/bots';
import type { Bot } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.js';
import { badRequest, forbidden, HookbotError } from '../infra/errors.js';
import type { Services } from '../services.js';
import { runBot, runFailureError } from '../bots/run-bot.js';

/** Its sandbox key within the project; no Bot can have this id (FHIR ids have no `$`). */
const EXPLORER_ID = '$evaluate-fact';
const FACT = 'fact';

export interface FactEvaluation {
  /** One entry per judged order (`order` null for hooks judged without one); `value` is always a list. */
  results: { order: string | null; value: unknown[] }[];
}

export async function evaluateFact(services: Services, repo: Repository, body: unknown): Promise<FactEvaluation> {
  if (!repo.access.allows('Bot', 'r'))
    throw forbidden('auth.forbidden-scope', 'Evaluating facts needs read access to Bot');
  const { fhirpath, request } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof fhirpath !== 'string' || fhirpath.trim() === '')
    throw badRequest('rules.invalid-fact', '"fhirpath" (the fact\'s FHIRPath expression) is required', 'fhirpath');
  const hook = typeof request === 'object' && request !== null ? (request as { hook?: unknown }).hook : undefined;
  if (typeof hook !== 'string')
    throw badRequest('rules.invalid-fact', '"request" must be a CDS Hooks request with its "hook"', 'request');
  if (hook === PRIOR_AUTHORIZATION)
    throw badRequest('rules.invalid-fact', 'Facts of prior-authorization rule sets cannot be explored here', 'request');
  // The smallest rule set around the fact: the checks and the runner are a rule set's own.
  const doc = {
    id: 'fact-explorer',
    hook,
    title: 'Fact explorer',
    description: 'Evaluates one fact on a sample request',
    source: { label: 'Fact explorer' },
    facts: { [FACT]: { fhirpath, many: true } },
    rules: [
      {
        name: 'explore',
        conditions: { all: [{ fact: FACT, operator: 'exists', value: true }] },
        events: [{ type: 'card', summary: 'Fact explorer', indicator: 'info' }],
      },
    ],
  };
  const validation = validateRuleSet(doc);
  const problem = validation.errors.find((e) => e.pointer.startsWith(`/facts/${FACT}`)) ?? validation.errors[0];
  if (problem) {
    const at = problem.pointer.startsWith(`/facts/${FACT}`) ? 'fhirpath' : problem.pointer.replace(/^\//, '');
    throw badRequest('rules.invalid-fact', problem.message, at === 'hook' ? 'request.hook' : at || 'fhirpath');
  }
  const code = await buildFactExplorerCode(doc);
  const run = await runBot({
    projectId: repo.access.projectId,
    bot: { resourceType: 'Bot', id: EXPLORER_ID, name: 'Fact explorer' } as Bot,
    code: {
      version: createHash('sha256').update(code).digest('hex').slice(0, 32),
      code,
      filename: 'fact-explorer.js',
      trusted: true,
    },
    event: { input: request },
    host: () => Promise.reject(new HookbotError('bot.client-method-not-allowed', 'Rule sets make no client calls')),
    runtime: services.runtime,
  });
  if (!run.ok) throw runFailureError(run);
  const explained = Array.isArray(run.result) ? (run.result as ExplainedFacts[]) : [];
  return {
    results: explained.map((e) => ({ order: e.order, value: (e.facts[FACT] as unknown[] | undefined) ?? [] })),
  };
}
