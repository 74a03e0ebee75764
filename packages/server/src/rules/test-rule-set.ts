/**
 * `Bot/$test-rules`: runs a rule set's own test cases on the server, in process, exactly as `hookbot rules test`
 * does locally. Test requests must be inline: a `requestFile` would be a path on the server's disk, so it is refused
 * (the CLI inlines request files before it sends a rule set).
 */
import { runRuleSetTests, type RuleSetTestResult } from '@hookbot/bots';
import type { Repository } from '../fhir/repository.js';
import { badRequest, forbidden } from '../infra/errors.js';
import { checkRuleSet, ruleSetOf } from './deploy-rule-set.js';

export async function testRuleSet(
  repo: Repository,
  body: unknown,
): Promise<{ passed: boolean; results: RuleSetTestResult[] }> {
  if (!repo.access.allows('Bot', 'r')) throw forbidden('Testing rule sets needs read access to Bot');
  const ruleSet = ruleSetOf(body);
  const doc = checkRuleSet(ruleSet);
  const withFile = (doc.tests ?? []).findIndex((t) => t.requestFile !== undefined);
  if (withFile >= 0) {
    throw badRequest(
      `Test case ${withFile} names a requestFile, which the server cannot read: put the request itself in "request", or run hookbot rules test FILE --remote, which does that for every requestFile`,
      `/tests/${withFile}/requestFile`,
    );
  }
  // No test case names a file, so the base folder is never read.
  const results = await runRuleSetTests(ruleSet, { baseDir: '/nonexistent' });
  return { passed: results.every((r) => r.passed), results };
}
