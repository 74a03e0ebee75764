/**
 * `runRuleSetTests`: runs the test cases a rule set carries, in process, reading request files relative to
 * `baseDir` (used by `hookbot rules test`; the server runs inline test cases in the sandbox, `run-test-cases.ts`).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CdsRequest } from '../cds/types.js';
import { prepareRuleSet } from './run.js';
import type { PasInput } from './prior-authorization.js';
import { failedCase, inlineInput, runTestCase, type RuleSetTestResult } from './run-test-cases.js';
import type { RuleSetTestCase } from './types.js';

export async function runRuleSetTests(doc: unknown, options: { baseDir: string }): Promise<RuleSetTestResult[]> {
  const compiled = prepareRuleSet(doc);
  const results: RuleSetTestResult[] = [];
  for (const test of compiled.doc.tests ?? []) {
    let request: CdsRequest | PasInput;
    try {
      request = inlineInput(compiled, test) ?? (await loadRequest(test, options.baseDir));
    } catch (err) {
      results.push(failedCase(test, err));
      continue;
    }
    results.push(await runTestCase(compiled, test, request));
  }
  return results;
}

async function loadRequest(test: RuleSetTestCase, baseDir: string): Promise<CdsRequest> {
  const text = await readFile(resolve(baseDir, test.requestFile ?? ''), 'utf8');
  return JSON.parse(text) as CdsRequest;
}
