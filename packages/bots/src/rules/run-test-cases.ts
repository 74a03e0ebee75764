/**
 * Runs one test case of a compiled rule set (evaluate on the case's clock, compare), and the inline test cases of
 * a rule set within a time budget. Pure code: `runInlineTestCases` is what the sandbox test runner calls
 * (`bot-code.ts`), so an analyst's FHIRPath and rules never run on the server's event loop.
 */
import type { CdsRequest } from '../cds/types.js';
import type { CompiledRuleSet } from './compile.js';
import { evaluateCompiled } from './evaluate.js';
import { evaluatePriorAuthorization, type PasInput } from './prior-authorization.js';
import { compareDecisions, compareResponse } from './test-compare.js';
import { PRIOR_AUTHORIZATION, type RuleSetTestCase } from './types.js';

export interface RuleSetTestResult {
  name: string;
  passed: boolean;
  diff?: string;
}

export const DEFAULT_TEST_NOW = '2026-01-15T12:00:00Z';

export function failedCase(test: Pick<RuleSetTestCase, 'name'>, err: unknown): RuleSetTestResult {
  return { name: test.name, passed: false, diff: `error: ${err instanceof Error ? err.message : String(err)}` };
}

export async function runTestCase(
  compiled: CompiledRuleSet,
  test: RuleSetTestCase,
  request: CdsRequest | PasInput,
): Promise<RuleSetTestResult> {
  try {
    const now = new Date(test.now ?? DEFAULT_TEST_NOW);
    // A prior authorization rule set decides the items of a PAS request instead of answering a hook.
    const lines =
      compiled.doc.hook === PRIOR_AUTHORIZATION
        ? compareDecisions(
            test.expect.decisions ?? [],
            await evaluatePriorAuthorization(compiled, request as PasInput, { now }),
          )
        : compareResponse(test.expect, await evaluateCompiled(compiled, request as CdsRequest, { now }));
    return lines.length === 0
      ? { name: test.name, passed: true }
      : { name: test.name, passed: false, diff: lines.join('\n') };
  } catch (err) {
    return failedCase(test, err);
  }
}

export interface InlineTestOptions {
  /** Cases not started within this many milliseconds fail as not run, so the run answers before its time limit. */
  budgetMs?: number;
}

/** The rule set's test cases, each with an inline `request` or PAS `input` (a case naming a file fails). */
export async function runInlineTestCases(
  compiled: CompiledRuleSet,
  options: InlineTestOptions = {},
): Promise<RuleSetTestResult[]> {
  const started = Date.now();
  const results: RuleSetTestResult[] = [];
  const field = compiled.doc.hook === PRIOR_AUTHORIZATION ? 'input' : 'request';
  for (const test of compiled.doc.tests ?? []) {
    const input = inlineInput(compiled, test);
    if (options.budgetMs !== undefined && Date.now() - started > options.budgetMs) {
      results.push(failedCase(test, new Error(`not run: the test cases took longer than ${options.budgetMs} ms`)));
    } else if (!input) {
      results.push(failedCase(test, new Error(`the test ${field} must be inline ("${field}")`)));
    } else {
      results.push(await runTestCase(compiled, test, input));
    }
  }
  return results;
}

/** A case's inline input: a PAS rule set's `input` (or `request`), another rule set's `request`. */
export function inlineInput(compiled: CompiledRuleSet, test: RuleSetTestCase): CdsRequest | PasInput | undefined {
  if (compiled.doc.hook === PRIOR_AUTHORIZATION) return (test.input ?? test.request) as PasInput | undefined;
  return test.request;
}
