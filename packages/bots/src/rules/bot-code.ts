/**
 * `buildRuleBotCode`: turns a rule set into a CommonJS bot for the sandbox (`exports.handler = async (medplum,
 * event) => CdsResponse`); `buildRuleTestBotCode`, the same bot answering its test cases' results instead.
 * json-rules-engine, the FHIRPath engine and the evaluator are bundled with esbuild once per process into the
 * runner; the rule set is embedded as a JSON string literal and parsed with JSON.parse, so it is data, never code.
 * jsonpath-plus is replaced by a stub that throws: rule paths go through our own resolver (`path-resolver.ts`).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { prepareRuleSet } from './run.js';
import { PRIOR_AUTHORIZATION } from './types.js';

const RUNNER_GLOBAL = '__hookbotRuleRunner';

const stubJsonPath: Plugin = {
  name: 'stub-jsonpath-plus',
  setup(b) {
    b.onResolve({ filter: /^jsonpath-plus$/ }, () => ({ path: 'jsonpath-plus', namespace: 'hookbot-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'hookbot-stub' }, () => ({
      contents: 'export function JSONPath() { throw new Error("JSONPath is disabled in Hookbot rule sets"); }',
      loader: 'js',
    }));
  },
};

let runnerSource: Promise<string> | undefined;

/** The bundled runner (an IIFE defining `__hookbotRuleRunner`), built on first use and cached. */
export function getRuleRunnerSource(): Promise<string> {
  runnerSource ??= bundleRunner().catch((err: unknown) => {
    runnerSource = undefined;
    throw err;
  });
  return runnerSource;
}

async function bundleRunner(): Promise<string> {
  const js = fileURLToPath(new URL('./runner-entry.js', import.meta.url));
  const entry = existsSync(js) ? js : js.replace(/\.js$/, '.ts');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: RUNNER_GLOBAL,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    plugins: [stubJsonPath],
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild produced no output for the rule runner');
  return file.text;
}

/** Validates the rule set (throws InvalidRuleSetError) and returns the bot's CommonJS source. */
export async function buildRuleBotCode(doc: unknown): Promise<string> {
  return ruleBotSource(doc, [
    // A Hookbot bot event carries the hook request as `input`; a bare request is accepted too (tests, tools).
    "  var request = event && typeof event === 'object' && event.bot && 'input' in event ? event.input : event;",
    // A prior authorization rule set decides the items of a PAS request instead of answering a hook.
    `  if (compiled.doc.hook === ${JSON.stringify(PRIOR_AUTHORIZATION)}) return ${RUNNER_GLOBAL}.evaluatePriorAuthorization(compiled, request);`,
    `  return ${RUNNER_GLOBAL}.evaluateCompiled(compiled, request);`,
  ]);
}

/**
 * The same bot, with a handler that runs the rule set's inline test cases and answers their results
 * (`RuleSetTestResult[]`): how the server tests a rule set in the sandbox. The event may carry `budgetMs`, after
 * which the cases not yet started fail as not run.
 */
export async function buildRuleTestBotCode(doc: unknown): Promise<string> {
  return ruleBotSource(doc, [
    "  var budgetMs = event && typeof event === 'object' && typeof event.budgetMs === 'number' ? event.budgetMs : undefined;",
    `  return ${RUNNER_GLOBAL}.runInlineTestCases(compiled, { budgetMs: budgetMs });`,
  ]);
}

/**
 * The same bot, answering the rule set's facts for each order of the request (`ExplainedFacts[]`) instead of cards:
 * how the server's fact explorer evaluates an analyst's FHIRPath, in the sandbox and never on its event loop.
 */
export async function buildFactExplorerCode(doc: unknown): Promise<string> {
  return ruleBotSource(doc, [
    "  var request = event && typeof event === 'object' && 'input' in event ? event.input : event;",
    `  return ${RUNNER_GLOBAL}.explainFacts(compiled, request);`,
  ]);
}

async function ruleBotSource(doc: unknown, handlerBody: string[]): Promise<string> {
  const compiled = prepareRuleSet(doc);
  const runner = await getRuleRunnerSource();
  // A JSON string inside a JS string literal: the rule set can only ever be read as data.
  const data = JSON.stringify(JSON.stringify(compiled.doc));
  return [
    '"use strict";',
    '(function () {',
    // eventemitter2 (inside json-rules-engine) reads setTimeout when it loads; the sandbox has no timers.
    'var setTimeout = function (fn) { Promise.resolve().then(fn); return 0; };',
    'var clearTimeout = function () {};',
    runner,
    `var ruleSetJson = ${data};`,
    'var compiled;',
    'exports.handler = async function (medplum, event) {',
    `  if (!compiled) compiled = ${RUNNER_GLOBAL}.compileRuleSet(JSON.parse(ruleSetJson));`,
    ...handlerBody,
    '};',
    '})();',
    '',
  ].join('\n');
}
