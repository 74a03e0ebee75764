/** `hookbot rules validate FILE`: the rule set checked locally with `validateRuleSet` from @hookbot/bots. */
import path from 'node:path';
import { validateRuleSet, type RuleSetIssue, type RuleSetValidation } from '@hookbot/bots';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { readRuleSet } from './rules-file.js';

export interface RulesFileOptions {
  file: string;
}

export async function rulesValidate(input: CommandContext & RulesFileOptions): Promise<void> {
  const { doc } = await readRuleSet(input.cwd, input.file);
  const result = checkRuleSet(input.out, input.file, doc);
  input.out.result(result, () => `${input.out.style.green('✓')} ${input.file} is a valid rule set`);
}

/** Prints warnings on stderr; throws (exit 1) with one line per error, `FILE#/json/pointer: message`. */
export function checkRuleSet(out: Output, file: string, doc: unknown): RuleSetValidation {
  const result = validateRuleSet(doc);
  const name = path.basename(file);
  for (const warning of result.warnings) out.note(`${out.style.yellow('warning')} ${formatIssue(name, warning)}`);
  if (!result.valid) {
    throw new CliError('failed', `${file} is not a valid rule set (${result.errors.length} error(s))`, {
      lines: result.errors.map((e) => formatIssue(name, e)),
      data: result,
    });
  }
  return result;
}

const formatIssue = (file: string, issue: RuleSetIssue) => `${file}#${issue.pointer}: ${issue.message}`;
