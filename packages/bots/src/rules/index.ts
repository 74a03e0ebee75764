/** Public API of the rule-set layer (re-exported from @hookbot/bots). */
export type * from './types.js';
export { PRIOR_AUTHORIZATION } from './types.js';
export {
  evaluatePriorAuthorization,
  type PasInput,
  type PasItemDecision,
  type PasRuleDecision,
} from './prior-authorization.js';
export { RULE_SET_LIMITS } from './limits.js';
export { ruleSetSchema } from './schema.js';
export { parseRuleSetText, pointerPosition, RuleSetParseError } from './parse.js';
export { validateRuleSet, type RuleSetIssue, type RuleSetValidation } from './validate.js';
export { compileRuleSet, isCompiledRuleSet, RuleSetCompileError, type CompiledRuleSet } from './compile.js';
export { evaluateRuleSet, prepareRuleSet, InvalidRuleSetError } from './run.js';
export { evaluateCompiled, type EvaluateOptions } from './evaluate.js';
export { runRuleSetTests } from './test-cases.js';
export { DEFAULT_TEST_NOW, type RuleSetTestResult } from './run-test-cases.js';
export { FhirPathLimitError } from './fhirpath-guard.js';
export { buildRuleBotCode, buildRuleTestBotCode, getRuleRunnerSource } from './bot-code.js';
export { resolvePath, parsePath } from './path-resolver.js';
export { createOperators, CUSTOM_OPERATORS, BUILT_IN_OPERATORS } from './operators.js';
export { CODE_SYSTEMS } from './codes.js';
export { readCoverageInformation } from './coverage.js';
export { COVERAGE_INFORMATION_URL } from '../cds/response-rules.js';
