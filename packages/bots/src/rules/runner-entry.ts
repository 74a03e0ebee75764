/** Entry point of the sandbox rule runner bundle (see bot-code.ts): only pure code is reachable from here. */
export { compileRuleSet } from './compile.js';
export { evaluateCompiled, explainFacts } from './evaluate.js';
export { evaluatePriorAuthorization } from './prior-authorization.js';
export { runInlineTestCases } from './run-test-cases.js';
