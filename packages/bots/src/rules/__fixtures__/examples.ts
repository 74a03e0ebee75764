import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseRuleSetText } from '../parse.js';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../../../../examples/rules/', import.meta.url));

export function loadExamples(): { file: string; doc: unknown }[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => /\.(json|ya?ml)$/.test(f))
    .sort()
    .map((file) => ({ file, doc: parseRuleSetText(readFileSync(EXAMPLES_DIR + file, 'utf8'), file) }));
}

export function loadRequest(name: string): unknown {
  return JSON.parse(readFileSync(`${EXAMPLES_DIR}../requests/${name}`, 'utf8'));
}
