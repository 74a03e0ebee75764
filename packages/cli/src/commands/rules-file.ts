/** Reading a rule-set document (JSON or YAML) for the `rules` commands, with the parser from @hookbot/bots. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRuleSetText } from '@hookbot/bots';
import { CliError } from '../errors.js';

export interface RuleSetFile {
  file: string;
  doc: unknown;
}

export async function readRuleSet(cwd: string, file: string): Promise<RuleSetFile> {
  const absolute = path.resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    throw new CliError('usage', `Cannot read ${file}: ${(error as Error).message}`, {}, { cause: error });
  }
  try {
    return { file: absolute, doc: parseRuleSetText(text, path.basename(file)) };
  } catch (error) {
    throw new CliError('failed', `${file} cannot be read as a rule set`, { lines: [(error as Error).message] });
  }
}
