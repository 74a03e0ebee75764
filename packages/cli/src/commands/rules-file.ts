/** Reading a rule-set document (JSON or YAML) for the `rules` commands, with the parser from @hookbot/bots. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRuleSetText } from '@hookbot/bots';
import { CliError, readText } from '../errors.js';

export interface RuleSetFile {
  file: string;
  doc: unknown;
  /** The file's text, to point problems at their line and column. */
  text: string;
}

export async function readRuleSet(cwd: string, file: string): Promise<RuleSetFile> {
  const absolute = path.resolve(cwd, file);
  const text = await readText(absolute, file);
  try {
    return { file: absolute, doc: parseRuleSetText(text, path.basename(file)), text };
  } catch (error) {
    throw new CliError('failed', `${file} cannot be read as a rule set`, { lines: [(error as Error).message] });
  }
}

/**
 * A copy of the document with each test's `requestFile` replaced by the request itself: the server has no folder
 * to read request files from, so `--remote` tests and deploys carry them inline.
 */
export async function inlineRequestFiles(doc: unknown, baseDir: string): Promise<unknown> {
  const tests = (doc as { tests?: unknown } | null)?.tests;
  if (!Array.isArray(tests)) return doc;
  const inlined = await Promise.all(
    tests.map(async (test: unknown) => {
      const { requestFile, ...rest } = (test ?? {}) as { requestFile?: unknown; [key: string]: unknown };
      if (typeof requestFile !== 'string' || rest.request !== undefined) return test;
      const file = path.resolve(baseDir, requestFile);
      try {
        return { ...rest, request: JSON.parse(await readFile(file, 'utf8')) as unknown };
      } catch (error) {
        throw new CliError('usage', `Cannot read the test request ${requestFile}: ${(error as Error).message}`);
      }
    }),
  );
  return { ...(doc as object), tests: inlined };
}
