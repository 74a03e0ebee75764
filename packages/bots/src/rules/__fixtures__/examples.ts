import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseRuleSetText } from '../parse.js';
import { PRIOR_AUTHORIZATION } from '../types.js';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../../../../examples/rules/', import.meta.url));

/** The example rule sets that answer CDS hooks (the prior-authorization ones decide PAS requests instead). */
export function loadExamples(): { file: string; doc: unknown }[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => /\.(json|ya?ml)$/.test(f))
    .sort()
    .map((file) => ({ file, doc: parseRuleSetText(readFileSync(EXAMPLES_DIR + file, 'utf8'), file) }))
    .filter(({ doc }) => (doc as { hook?: unknown }).hook !== PRIOR_AUTHORIZATION);
}

export function loadRequest(name: string): unknown {
  return JSON.parse(readFileSync(`${EXAMPLES_DIR}../requests/${name}`, 'utf8'));
}
