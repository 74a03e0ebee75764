/**
 * Vitest global setup: one initialised, empty PGlite folder for the whole run, which each test store and test
 * server copies instead of running PGlite's initdb again (`pgliteFromTemplate`). Made by a child process: the
 * runner that loads this file cannot start PGlite's worker thread.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const PGLITE_TEMPLATE_ENV = 'HOOKBOT_TEST_PGLITE_TEMPLATE';

export default async function setup(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hookbot-pglite-template-'));
  const script = path.join(import.meta.dirname, 'create-pglite-template.ts');
  await promisify(execFile)(process.execPath, ['--conditions=hookbot-source', '--import', 'tsx', script, dir]);
  process.env[PGLITE_TEMPLATE_ENV] = path.join(dir, 'pglite');
  return async () => {
    delete process.env[PGLITE_TEMPLATE_ENV];
    await rm(dir, { recursive: true, force: true });
  };
}
