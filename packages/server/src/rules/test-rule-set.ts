/**
 * `Bot/$test-rules`: runs a rule set's own test cases in the sandbox, as the bot a deploy would build
 * (`buildRuleTestBotCode`: the same runner and embedded rule set, answering the cases' results) under the same
 * time and memory limits as a deployed rule set, all cases in one run. The analyst's FHIRPath and rules never run
 * on the server's event loop. Test requests must be inline: a `requestFile` would be a path on the server's disk,
 * so it is refused (the CLI inlines request files before it sends a rule set).
 */
import { createHash } from 'node:crypto';
import { buildRuleTestBotCode } from '@hookbot/bots/build';
import type { RuleSetTestResult } from '@hookbot/bots/rules';
import type { RunResult } from '@hookbot/runtime';
import type { Bot } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.js';
import { badRequest, forbidden, HookbotError } from '../infra/errors.js';
import type { Services } from '../services.js';
import { runBot, runFailureError } from '../bots/run-bot.js';
import { checkRuleSet, ruleSetOf } from './deploy-rule-set.js';

/** Its sandbox key within the project; no Bot can have this id (FHIR ids have no `$`). */
const TEST_RUNNER_ID = '$test-rules';

export interface RuleSetTestReport {
  passed: boolean;
  results: RuleSetTestResult[];
}

export async function testRuleSet(services: Services, repo: Repository, body: unknown): Promise<RuleSetTestReport> {
  if (!repo.access.allows('Bot', 'r'))
    throw forbidden('auth.forbidden-scope', 'Testing rule sets needs read access to Bot');
  const doc = checkRuleSet(ruleSetOf(body));
  const tests = doc.tests ?? [];
  const withFile = tests.findIndex((t) => t.requestFile !== undefined);
  if (withFile >= 0) {
    throw badRequest(
      'rules.invalid-rule-set',
      `Test case ${withFile} names a requestFile, which the server cannot read: put the request itself in "request", or run hookbot rules test FILE --remote, which does that for every requestFile`,
      `/tests/${withFile}/requestFile`,
    );
  }
  const code = await buildRuleTestBotCode(doc);
  const { timeoutMs, memoryMb } = services.config.bot;
  const run = await runBot({
    projectId: repo.access.projectId,
    bot: { resourceType: 'Bot', id: TEST_RUNNER_ID, name: doc.title } as Bot,
    code: {
      version: createHash('sha256').update(code).digest('hex').slice(0, 32),
      code,
      filename: `${doc.id}.rules-test.js`,
      trusted: true,
    },
    event: { budgetMs: caseBudgetMs(timeoutMs) },
    host: () => Promise.reject(new HookbotError('bot.client-method-not-allowed', 'Rule sets make no client calls')),
    runtime: services.runtime,
  });
  if (!run.ok && run.kind === 'overloaded') throw runFailureError(run);
  const results = run.ok
    ? tests.map((test, i) => resultOf(test.name, (run.result as unknown[] | undefined)?.[i]))
    : tests.map((test) => ({ name: test.name, passed: false, diff: `error: ${runFailure(run, timeoutMs, memoryMb)}` }));
  return { passed: results.every((r) => r.passed), results };
}

/**
 * Cases start only within this part of the run's time limit, so that a slow suite answers with the cases it ran
 * (and the rest as not run) instead of timing out as a whole.
 */
function caseBudgetMs(timeoutMs: number): number {
  return Math.max(0, timeoutMs - Math.max(100, Math.round(timeoutMs / 5)));
}

/** A case's result as the sandbox answered it; its name is the request's own. */
function resultOf(name: string, answer: unknown): RuleSetTestResult {
  if (typeof answer !== 'object' || answer === null) return { name, passed: false, diff: 'error: no result' };
  const { passed, diff } = answer as { passed?: unknown; diff?: unknown };
  if (passed === true) return { name, passed: true };
  return { name, passed: false, diff: typeof diff === 'string' ? diff : 'error: no result' };
}

function runFailure(run: Extract<RunResult, { ok: false }>, timeoutMs: number, memoryMb: number): string {
  switch (run.kind) {
    case 'timeout':
      return `the test cases exceeded the sandbox time limit of ${timeoutMs} ms`;
    case 'memory':
      return `the test cases exceeded the sandbox memory limit of ${memoryMb} MB`;
    default:
      return `the test run failed (${run.kind}): ${run.message.slice(0, 1000)}`;
  }
}
