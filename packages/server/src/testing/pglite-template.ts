/**
 * The suite's PGlite template: PGlite's first start in a folder runs initdb in WebAssembly, several seconds per test
 * server on 2 cores, where copying a folder initialised once (test/support/global-setup.ts) takes a fraction.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the suite's global setup left an initialised, empty PGlite folder (test/support/global-setup.ts). */
const PGLITE_TEMPLATE_ENV = 'HOOKBOT_TEST_PGLITE_TEMPLATE';

/** Gives a new data folder the initialised, empty PGlite folder of the template, when the suite made one. */
export async function pgliteFromTemplate(dataDir: string): Promise<void> {
  const template = process.env[PGLITE_TEMPLATE_ENV];
  if (template) await cp(template, join(dataDir, 'pglite'), { recursive: true });
}
