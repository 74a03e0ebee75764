/**
 * The README's first hour, run as written: a server started the README's way (`npm start` after its build step, in a
 * fresh folder, embedded defaults, `BASE_URL` left to its default), then the shell blocks of the curl walk-through,
 * the payer analysts' and the bot developers' sections, in the README's order, each as one `bash -e` script. The
 * only change made to them is the port (8103 may be taken while the suite runs). Needs `npm run build`, curl and jq.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, collect, REPO_ROOT } from '../packages/cli/test-support/cli-process.js';
import { freePort } from './support/port.js';

const README_PORT = '8103';

/** The ```sh blocks of a `## heading` section, in order. */
function shellBlocks(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}`);
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

let work: string;
let port: string;
let server: ChildProcess;
let serverOutput = '';
let readme: string;

/** Runs one README block as a bash script in the fresh folder; every command must succeed. */
async function runBlock(block: string) {
  const script = `set -euo pipefail\n${block.replaceAll(README_PORT, port)}`;
  const child = spawn('bash', ['-c', script], {
    cwd: work,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: work,
      HOOKBOT_CONFIG_DIR: path.join(work, '.config'),
      NO_COLOR: '1',
      npm_config_update_notifier: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = await collect(child);
  expect(result.code, `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  return result;
}

beforeAll(async () => {
  assertCliBuilt();
  readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
  await mkdir(path.join(REPO_ROOT, 'tmp'), { recursive: true });
  // A fresh clone's working folder: what the commands name (examples/, packages/) and nothing else.
  work = await mkdtemp(path.join(REPO_ROOT, 'tmp', 'readme-'));
  for (const entry of ['examples', 'packages', 'node_modules', 'package.json']) {
    await symlink(path.join(REPO_ROOT, entry), path.join(work, entry));
  }
  port = String(await freePort());
  const { scripts } = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const start = scripts.start ?? '';
  expect(start).toMatch(/^npm run build && /);
  server = spawn('sh', ['-c', start.replace(/^npm run build && /, '')], {
    cwd: work,
    env: { PATH: process.env.PATH ?? '', HOME: work, PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stopping it stops the server `sh` started, not only `sh`.
    detached: true,
  });
  server.stdout?.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
  server.stderr?.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
  const started = Date.now();
  while (!serverOutput.includes('Hookbot is listening on')) {
    if (server.exitCode !== null || Date.now() - started > 90_000) {
      throw new Error(`the server did not start:\n${serverOutput}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The README's address, and BASE_URL's default.
  expect(serverOutput).toContain(`Hookbot is listening on http://localhost:${port}`);
}, 120_000);

afterAll(async () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    const exited = once(server, 'exit');
    process.kill(-server.pid, 'SIGTERM');
    await exited;
  }
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the README, run as written on a fresh folder', () => {
  it('Set up: jq is listed among the requirements', () => {
    const setUp = readme.slice(readme.indexOf('## Set up'), readme.indexOf('## Configuration'));
    expect(setUp).toMatch(/`jq`/);
  });

  it('Walk-through with curl', async () => {
    const blocks = shellBlocks(readme, 'Walk-through with curl');
    expect(blocks).toHaveLength(1);
    const { stdout } = await runBlock(blocks[0]!);
    expect(stdout).not.toMatch(/OperationOutcome|"error"/);
    expect(stdout).toContain('"greeting"');
    expect(stdout).toMatch(/"title": "Greeting"/);
    expect(stdout).toMatch(/"summary": "Hello Bixby"/);
  }, 120_000);

  it('For payer analysts', async () => {
    const blocks = shellBlocks(readme, 'For payer analysts');
    expect(blocks).toHaveLength(1);
    const { stdout } = await runBlock(blocks[0]!);
    expect(stdout).toMatch(/Logged in to http:\/\/localhost:\d+ as /);
    expect(stdout).toMatch(/crd-prior-auth\.json is a valid rule set/);
    expect(stdout).toMatch(/\d+ passed, 0 failed[\s\S]*\d+ passed, 0 failed/);
    expect(stdout).toMatch(/Rule set live as Bot\/\S+/);
    expect(stdout).toMatch(/VERSION\s+UPDATED/);
    expect(stdout).toMatch(/ID\s+HOOK\s+TITLE[\s\S]*patient-view\s+Greeting/);
  }, 240_000);

  it('For bot developers', async () => {
    const blocks = shellBlocks(readme, 'For bot developers');
    expect(blocks).toHaveLength(1);
    const { stdout } = await runBlock(blocks[0]!);
    expect(stdout).toContain('bots/hello/index.ts');
    expect(stdout).toMatch(/hello is live as Bot\/\S+/);
    expect(stdout).toMatch(/"summary": "hello reviewed 1 item\(s\) for patient example-patient"/);
    expect(stdout).toMatch(/hello is back to version 2/);
    expect(stdout).toMatch(/● INFO {2}hello reviewed 1 item\(s\)/);
  }, 240_000);
});
