/** `hookbot rules validate FILE`: the rule set checked locally with `validateRuleSet` from @hookbot/bots. */
import path from 'node:path';
import { pointerLocator, validateRuleSet, type RuleSetIssue, type RuleSetValidation } from '@hookbot/bots';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { readRuleSet } from './rules-file.js';

export interface RulesFileOptions {
  file: string;
}

export async function rulesValidate(input: CommandContext & RulesFileOptions): Promise<void> {
  const { doc, text } = await readRuleSet(input.cwd, input.file);
  const result = checkRuleSet(input.out, input.file, doc, text);
  input.out.result(result, () => `${input.out.style.green('✓')} ${input.file} is a valid rule set`);
}

/**
 * Prints warnings on stderr; throws (exit 1) with one line per error, all of them,
 * `FILE:LINE:COLUMN #/json/pointer: message`.
 */
export function checkRuleSet(out: Output, file: string, doc: unknown, text: string): RuleSetValidation {
  const result = validateRuleSet(doc);
  const name = path.basename(file);
  const locate = pointerLocator(text);
  const format = (issue: RuleSetIssue) => {
    const at = locate(issue.pointer);
    return `${name}${at ? `:${at.line}:${at.column}` : ''} #${issue.pointer}: ${issue.message}`;
  };
  for (const warning of result.warnings) out.note(`${out.style.yellow('warning')} ${format(warning)}`);
  if (!result.valid) {
    throw new CliError('failed', `${file} is not a valid rule set (${result.errors.length} error(s))`, {
      lines: result.errors.map(format),
      data: result,
    });
  }
  return result;
}
