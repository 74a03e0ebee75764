/**
 * `hookbot rules test FILE [--remote]`: runs the rule set's own test cases, locally with `runRuleSetTests` from
 * @hookbot/bots, or on the server with `POST /fhir/R4/Bot/$test-rules`. Exit 1 when any case fails.
 */
import path from 'node:path';
import { runRuleSetTests, type RuleSetTestResult } from '@hookbot/bots';
import { connect, type CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { checkRuleSet, type RulesFileOptions } from './rules-validate.js';
import { inlineRequestFiles, readRuleSet } from './rules-file.js';

export interface RulesTestOptions extends RulesFileOptions {
  remote: boolean;
}

export type RuleTestResult = RuleSetTestResult;

export async function rulesTest(input: CommandContext & RulesTestOptions): Promise<void> {
  const { out } = input;
  const { file, doc, text } = await readRuleSet(input.cwd, input.file);
  checkRuleSet(out, input.file, doc, text);
  let results: RuleTestResult[];
  if (input.remote) {
    const api = await connect(input);
    const { body } = await out.step('Running the tests on the server', async () =>
      api.request<{ results: RuleTestResult[] }>('POST', '/fhir/R4/Bot/$test-rules', {
        json: { ruleSet: await inlineRequestFiles(doc, path.dirname(file)) },
      }),
    );
    results = body.results;
  } else {
    results = await out.step('Running the tests', () => runRuleSetTests(doc, { baseDir: path.dirname(file) }));
  }
  const failed = results.filter((r) => !r.passed);
  const { style } = out;
  const render = () =>
    [
      ...results.map((r) =>
        r.passed ? `${style.green('✓')} ${r.name}` : [`${style.red('✗')} ${r.name}`, indent(r.diff ?? '')].join('\n'),
      ),
      '',
      `${results.length - failed.length} passed, ${failed.length} failed`,
    ].join('\n');
  if (results.length === 0) throw new CliError('failed', `${input.file} has no test cases`);
  if (failed.length > 0) {
    if (!out.json) out.line(render());
    throw new CliError('failed', `${failed.length} of ${results.length} rule test(s) failed`, { data: { results } });
  }
  out.result({ results }, render);
}

const indent = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => `    ${line}`)
    .join('\n');
