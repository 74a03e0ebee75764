/**
 * Writes `schema/rule-set.schema.json` from `ruleSetSchema` (src/rules/schema.ts), its one source, formatted as the
 * repository's Prettier settings format it. `npm run generate`; `schema.test.ts` fails when the file is not current.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { ruleSetSchema } from '../src/rules/schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../schema/rule-set.schema.json', import.meta.url));

export async function renderSchema(): Promise<string> {
  const options = await resolveConfig(SCHEMA_FILE);
  return format(JSON.stringify(ruleSetSchema, null, 2), { ...options, filepath: SCHEMA_FILE });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(SCHEMA_FILE, await renderSchema());
  console.log(`wrote ${SCHEMA_FILE}`);
}
