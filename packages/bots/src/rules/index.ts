/** `@hookbot/bots/rules`: rule sets on json-rules-engine (also re-exported from `@hookbot/bots`). */
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
export { parseRuleSetText, pointerLocator, RuleSetParseError } from './parse.js';
export { validateRuleSet, type RuleSetValidation } from './validate.js';
export type { RuleSetIssue } from './validate-semantics.js';
export { compileRuleSet, isCompiledRuleSet, RuleSetCompileError, type CompiledRuleSet } from './compile.js';
export { evaluateRuleSet, prepareRuleSet, InvalidRuleSetError } from './run.js';
export type { ExplainedFacts } from './evaluate.js';
export { runRuleSetTests } from './test-cases.js';
export { DEFAULT_TEST_NOW, type RuleSetTestResult } from './run-test-cases.js';
export { FhirPathLimitError } from './fhirpath-guard.js';
