import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runInNewContext } from 'node:vm';
import { KNOWN_HOOKS, validateCdsResponse } from '@hookbot/bots';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOutput } from '../output.js';
import { botBuild } from './bot-build.js';
import { botCreate } from './bot-create.js';

let cwd: string;
let stdout: string;
let stderr: string;
const ctx = () => ({
  cwd,
  env: {},
  out: createOutput({
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    json: false,
    color: false,
    interactive: false,
  }),
});

beforeEach(async () => {
  cwd = await mkdtemp(path.join(tmpdir(), 'hookbot-create-'));
  stdout = '';
  stderr = '';
});
afterEach(async () => rm(cwd, { recursive: true, force: true }));

/** Loads a CommonJS bundle the way the sandbox does: no require, no process. */
async function loadBundle(file: string): Promise<{ handler: (m: unknown, e: unknown) => Promise<unknown> }> {
  const module = { exports: {} as Record<string, unknown> };
  runInNewContext(await readFile(file, 'utf8'), { module, exports: module.exports, console: { log: () => undefined } });
  return module.exports as { handler: (m: unknown, e: unknown) => Promise<unknown> };
}

describe('bot create + bot build', () => {
  it.each(KNOWN_HOOKS)(
    'scaffolds a %s bot whose bundle answers its sample request with a valid response',
    async (hook) => {
      await botCreate({ ...ctx(), name: 'svc', hook });
      const config = JSON.parse(await readFile(path.join(cwd, 'hookbot.config.json'), 'utf8'));
      expect(config.bots).toEqual([
        {
          name: 'svc',
          source: 'bots/svc/index.ts',
          dist: 'dist/svc.js',
          cdsService: { hook, title: 'svc', description: `svc answers ${hook}` },
        },
      ]);
      await botBuild({ ...ctx(), names: ['svc'] });
      const { handler } = await loadBundle(path.join(cwd, 'dist/svc.js'));
      const request = JSON.parse(await readFile(path.join(cwd, 'bots/svc/request.json'), 'utf8'));
      const result = await handler({}, { input: request });
      const validation = validateCdsResponse(result, { hook });
      expect(validation.errors).toEqual([]);
    },
  );

  it('scaffolds a plain bot without a cdsService', async () => {
    await botCreate({ ...ctx(), name: 'echo' });
    const config = JSON.parse(await readFile(path.join(cwd, 'hookbot.config.json'), 'utf8'));
    expect(config.bots[0].cdsService).toBeUndefined();
    await botBuild({ ...ctx(), names: [] });
    const { handler } = await loadBundle(path.join(cwd, 'dist/echo.js'));
    expect(await handler({}, { input: { a: 1 } })).toEqual({ bot: 'echo', received: { a: 1 } });
    expect(stderr).toMatch(/✓ Built echo → dist\/echo\.js, \d+(\.\d)? (B|kB) \(\d+ ms\)/);
  });

  it('adds to an existing hookbot.config.json and refuses duplicates and bad names', async () => {
    await botCreate({ ...ctx(), name: 'one' });
    await botCreate({ ...ctx(), name: 'two', hook: 'patient-view' });
    const config = JSON.parse(await readFile(path.join(cwd, 'hookbot.config.json'), 'utf8'));
    expect(config.bots.map((b: { name: string }) => b.name)).toEqual(['one', 'two']);
    await expect(botCreate({ ...ctx(), name: 'one' })).rejects.toMatchObject({ code: 'usage' });
    await expect(botCreate({ ...ctx(), name: '../evil' })).rejects.toMatchObject({ code: 'usage' });
    await expect(botCreate({ ...ctx(), name: 'x', hook: 'nope' })).rejects.toMatchObject({ code: 'usage' });
  });

  it('refuses a bot that imports a Node built-in (the sandbox has none)', async () => {
    await botCreate({ ...ctx(), name: 'fsbot' });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      path.join(cwd, 'bots/fsbot/index.ts'),
      "import { readFileSync } from 'node:fs';\nexport const handler = () => readFileSync('/etc/passwd');\n",
    );
    const error = await botBuild({ ...ctx(), names: ['fsbot'] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'failed', message: 'Cannot build fsbot' });
    expect((error as { details: { lines: string[] } }).details.lines.join('\n')).toMatch(
      /bots\/fsbot\/index\.ts:1:\d+: .*node:fs/,
    );
  });
});
