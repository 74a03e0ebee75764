/**
 * Medplum's own CLI (`@medplum/cli`, unmodified, pinned in the root devDependencies) against Hookbot: `medplum login`
 * with client credentials, `bot create`, `bot save` (the source uploaded as a `text/typescript` Binary), `bot deploy`
 * (`$deploy` answering an OperationOutcome) and `get`. The CLI keeps its profiles in `~/.medplum`: HOME is a
 * temporary folder, which is also the working folder holding `medplum.config.json`.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

/** The package's `bin` (its exports do not name it). */
const MEDPLUM_BIN = fileURLToPath(new URL('../node_modules/.bin/medplum', import.meta.url));
const SOURCE = `export async function handler(medplum: unknown, event: { input: { name: string } }) {\n  return 'hello ' + event.input.name;\n}\n`;
const DIST = `exports.handler = async (medplum, event) => 'hello ' + event.input.name;\n`;

let t: TestServer;
let home: string;

beforeAll(async () => {
  [t, home] = await Promise.all([startTestServer(), mkdtemp(path.join(tmpdir(), 'medplum-cli-'))]);
  await mkdir(path.join(home, 'src'));
  await mkdir(path.join(home, 'dist'));
  await mkdir(path.join(home, 'elsewhere'));
  await writeFile(path.join(home, 'src', 'hello.ts'), SOURCE);
  await writeFile(path.join(home, 'dist', 'hello.js'), DIST);
});
afterAll(async () => {
  await t?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `medplum …` in HOME, with none of the caller's MEDPLUM_* settings. */
function medplum(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MEDPLUM_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MEDPLUM_BIN, ...args],
      { cwd: home, env: { ...inherited, HOME: home, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const ok = (run: Run) => expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);

describe('@medplum/cli against Hookbot', () => {
  let botId: string;

  it('logs in with client credentials and keeps the profile', async () => {
    const { clientId, clientSecret } = t.demo;
    const args = ['--auth-type', 'client-credentials', '--client-id', clientId, '--client-secret', clientSecret];
    ok(await medplum(['login', ...args, '--base-url', `${t.url}/`]));
    const whoami = await medplum(['whoami']);
    ok(whoami);
    expect(whoami.stdout).toContain(`ClientApplication/${clientId}`);
    expect(whoami.stdout).toContain(`Project/${t.demo.projectId}`);
  });

  it('creates a Bot, saves its source and deploys its code (bot create)', async () => {
    const run = await medplum(['bot', 'create', 'hello', t.demo.projectId, 'src/hello.ts', 'dist/hello.js']);
    ok(run);
    expect(run.stdout).toMatch(/Deploy result: Deployed Bot\/\S+ version 3/);
    const config = JSON.parse(await readFile(path.join(home, 'medplum.config.json'), 'utf8')) as {
      bots: { name: string; id: string }[];
    };
    botId = config.bots[0]?.id as string;
    expect(config.bots).toEqual([{ name: 'hello', id: botId, source: 'src/hello.ts', dist: 'dist/hello.js' }]);
  });

  it('saves and deploys again from medplum.config.json (bot save, bot deploy)', async () => {
    await writeFile(path.join(home, 'src', 'hello.ts'), SOURCE.replace("'hello '", "'hi '"));
    const saved = await medplum(['bot', 'save', 'hello']);
    ok(saved);
    expect(saved.stdout).toContain('Number of bots saved: 1');
    await writeFile(path.join(home, 'dist', 'hello.js'), DIST.replace("'hello '", "'hi '"));
    const deployed = await medplum(['bot', 'deploy', 'hello']);
    ok(deployed);
    expect(deployed.stdout).toContain('Number of bots deployed: 1');
    expect(deployed.stdout).toContain('Number of errors: 0');

    const token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const run = await request(`${t.url}/fhir/R4/Bot/${botId}/$execute`, { method: 'POST', token, json: { name: 'x' } });
    expect(run.body).toBe('hi x');
    // The source the CLI uploaded is stored as sent and read back in its own media type.
    const bot = await request<{ sourceCode: { url: string; contentType: string } }>(`${t.url}/fhir/R4/Bot/${botId}`, {
      token,
    });
    expect(bot.body.sourceCode).toMatchObject({
      contentType: 'text/typescript',
      url: expect.stringMatching(/^Binary\//),
    });
    const source = await fetch(`${t.url}/fhir/R4/${bot.body.sourceCode.url}`, {
      headers: { Authorization: `Bearer ${token}`, Accept: '*/*' },
    });
    expect(source.headers.get('content-type')).toBe('text/typescript');
    expect(await source.text()).toBe(SOURCE.replace("'hello '", "'hi '"));
  });

  it('reads resources (get), with the credentials from the environment', async () => {
    const run = await medplum(['get', `Bot/${botId}`], {
      HOME: path.join(home, 'elsewhere'),
      MEDPLUM_BASE_URL: `${t.url}/`,
      MEDPLUM_CLIENT_ID: t.demo.clientId,
      MEDPLUM_CLIENT_SECRET: t.demo.clientSecret,
    });
    ok(run);
    expect(JSON.parse(run.stdout)).toMatchObject({ resourceType: 'Bot', id: botId, name: 'hello' });
    const search = await medplum(['get', 'Bot?name=hello']);
    ok(search);
    expect(JSON.parse(search.stdout)).toMatchObject({ resourceType: 'Bundle', entry: [{ resource: { id: botId } }] });
  });
});
