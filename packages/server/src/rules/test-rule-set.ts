/**
 * `Bot/$test-rules`: runs a rule set's own test cases on the server, in process, exactly as
 * `hookbot rules test` does locally. Test cases that name request files are not allowed here (there is no folder
 * to read them from): send them inline.
 */
import { runRuleSetTests, type RuleSetTestResult } from '@hookbot/bots';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkRuleSet } from './deploy-rule-set.js';

export async function testRuleSet(body: unknown): Promise<{ passed: boolean; results: RuleSetTestResult[] }> {
  const ruleSet = (
    typeof body === 'object' && body !== null && 'ruleSet' in body ? (body as { ruleSet: unknown }).ruleSet : body
  ) as unknown;
  checkRuleSet(ruleSet);
  // An empty folder: `requestFile` references resolve to nothing instead of to the server's files.
  const baseDir = await mkdtemp(path.join(tmpdir(), 'hookbot-rules-'));
  try {
    const results = await runRuleSetTests(ruleSet, { baseDir });
    return { passed: results.every((r) => r.passed), results };
  } finally {
    await rm(baseDir, { recursive: true, force: true });
  }
}
