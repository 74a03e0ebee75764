/**
 * End-to-end: the built `hookbot` CLI as a child process against a real server. The tests run in order and
 * share state (profiles, the scaffolded bot), like a developer's session from login to rollback.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  assertCliBuilt,
  collect,
  REPO_ROOT,
  runCli,
  startCli,
  type CliResult,
} from '../packages/cli/test-support/cli-process.js';
import { EXAMPLES } from '../packages/cli/src/cli.js';
import { COMMANDS } from '../packages/cli/src/commands/index.js';
import { createClientCertificate } from './support/certificates.js';
import { getToken, request } from './support/http.js';
import { freePort } from './support/port.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
let work: string;
let configDir: string;
const env = () => ({ HOOKBOT_CONFIG_DIR: configDir, HOME: work });
const hookbot = (...args: string[]) => runCli(args, { cwd: work, env: env() });

/** Every failure must say what went wrong on stderr and exit with the documented code. */
function expectFailure(result: CliResult, code: number, message: RegExp) {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stderr).toMatch(message);
}

function expectOk(result: CliResult) {
  expect(result.code, `stderr:\n${result.stderr}\nstdout:\n${result.stdout}`).toBe(0);
}

const rulesDir = path.join(REPO_ROOT, 'examples/rules');

beforeAll(async () => {
  assertCliBuilt();
  t = await startTestServer();
  // Inside the repository (tmp/ is git-ignored) so the scaffolded test finds tsx in node_modules.
  await mkdir(path.join(REPO_ROOT, 'tmp'), { recursive: true });
  work = await mkdtemp(path.join(REPO_ROOT, 'tmp', 'cli-e2e-'));
  configDir = path.join(work, 'config');
});

afterAll(async () => {
  await t?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('hookbot CLI end to end', () => {
  let project: { id: string; name: string };
  let tenant: { clientId: string; clientSecret: string };
  let botId: string;
  let firstVersion: string;
  let helloServiceId: string;
  const loginAsTenant = () =>
    hookbot(
      'login',
      '--base-url',
      t.url,
      '--client-id',
      tenant.clientId,
      '--client-secret',
      tenant.clientSecret,
      '--profile',
      'acme',
    );
  // What a developer does with curl beside the CLI: the tenant's token, a Bot POSTed, feedback sent.
  const tenantToken = () => getToken(t.url, tenant.clientId, tenant.clientSecret);
  const postBot = (token: string, bot: Record<string, unknown>) =>
    request<{ id: string }>(`${t.url}/fhir/R4/Bot`, { method: 'POST', token, json: { resourceType: 'Bot', ...bot } });
  const sendFeedback = (token: string, card: string, outcomeTimestamp: string) =>
    request(`${t.url}/cds-services/${botId}/feedback`, {
      method: 'POST',
      token,
      json: { feedback: [{ card, outcome: 'accepted', outcomeTimestamp }] },
    });

  it('logs in as the super-admin and stores the profile with mode 0600', async () => {
    const res = await hookbot(
      'login',
      '--base-url',
      t.url,
      '--client-id',
      t.admin.clientId,
      '--client-secret',
      t.admin.clientSecret,
      '--profile',
      'admin',
    );
    expectOk(res);
    expect(res.stdout).toMatch(/Logged in to .* \(super-admin\)/);
    const file = path.join(configDir, 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(saved.profiles.admin).toMatchObject({ baseUrl: t.url, clientId: t.admin.clientId });
  });

  it('whoami shows the super-admin', async () => {
    const res = await hookbot('whoami', '--json');
    expectOk(res);
    expect(res.json()).toMatchObject({ clientId: t.admin.clientId, admin: true });
  });

  it('admin signing-key rotate: the profile’s token still works, and the JWKS lists the new key and the old', async () => {
    const res = await hookbot('admin', 'signing-key', 'rotate', '--json');
    expectOk(res);
    const rotated = res.json<{ kid: string; previous: string[] }>();
    const jwks = await request<{ keys: { kid: string }[] }>(`${t.url}/.well-known/jwks.json`);
    expect(jwks.body.keys.map((k) => k.kid)).toEqual([rotated.kid, ...rotated.previous]);
    expectOk(await hookbot('whoami', '--json'));
    const human = await hookbot('admin', 'secrets', 'reseal');
    expectOk(human);
    expect(human.stdout).toMatch(/now use the current key/);
  });

  it('admin project create prints the new tenant credentials', async () => {
    const res = await hookbot('admin', 'project', 'create', 'acme-session', '--json');
    expectOk(res);
    const body = res.json<{ project: typeof project; client: typeof tenant }>();
    project = body.project;
    tenant = body.client;
    expect(project.name).toBe('acme-session');
    expect(tenant.clientSecret).toEqual(expect.any(String));
    const human = await hookbot('admin', 'project', 'create', 'beta-health');
    expectOk(human);
    expect(human.stdout).toMatch(/client secret {2}\S+/);
  });

  it('admin client create registers a member app in a project named by name', async () => {
    const uri = 'https://member-app.example/callback';
    const res = await hookbot(
      'admin',
      'client',
      'create',
      'Acme',
      '--project',
      'acme-session',
      '--redirect-uri',
      uri,
      '--public',
      '--json',
    );
    expectOk(res);
    expect(res.json()).toMatchObject({ role: 'member-app', public: true, redirectUris: [uri] });
    const confidential = await hookbot(
      'admin',
      'client',
      'create',
      'Acme',
      '--project',
      project.id,
      '--redirect-uri',
      uri,
    );
    expectOk(confidential);
    expect(confidential.stdout).toMatch(/client secret {2}\S+/);
    expect(
      (await hookbot('admin', 'client', 'create', 'Acme', '--project', 'no-such-project', '--redirect-uri', uri)).code,
    ).not.toBe(0);
  });

  it('logs in as the tenant, which becomes the current profile', async () => {
    expectOk(await loginAsTenant());
    const me = await hookbot('whoami', '--json');
    expect(me.json()).toMatchObject({ clientId: tenant.clientId, projectId: project.id, admin: false });
    const asAdmin = await hookbot('whoami', '--profile', 'admin', '--json');
    expect(asAdmin.json()).toMatchObject({ admin: true });
  });

  it('bot create scaffolds a TypeScript bot whose own test passes', async () => {
    const res = await hookbot('bot', 'create', 'hello', '--hook', 'order-sign');
    expectOk(res);
    expect(res.stdout).toContain('bots/hello/index.ts');
    const config = JSON.parse(await readFile(path.join(work, 'hookbot.config.json'), 'utf8'));
    expect(config.bots[0]).toMatchObject({ name: 'hello', cdsService: { hook: 'order-sign', title: 'hello' } });
    const test = await collect(
      (await import('node:child_process')).spawn('npx', ['tsx', '--test', 'bots/hello/index.test.ts'], {
        cwd: work,
        env: { ...process.env },
      }),
    );
    expect(test.code, test.stdout + test.stderr).toBe(0);
  });

  it('bot build bundles the bot into one CommonJS file', async () => {
    const res = await hookbot('bot', 'build', 'hello');
    expectOk(res);
    expect(res.stderr).toMatch(/Built hello → dist\/hello\.js/);
    const code = await readFile(path.join(work, 'dist/hello.js'), 'utf8');
    expect(code).toMatch(/module\.exports|exports\.handler|__export/);
    expect(code).not.toMatch(/^import /m);
  });

  it('bot deploy builds, creates the Bot with its cdsService and deploys, reporting each step', async () => {
    const res = await hookbot('bot', 'deploy', 'hel*', '--json');
    expectOk(res);
    expect(res.stderr).toMatch(/Built hello/);
    expect(res.stderr).toMatch(/Created Bot\/\S+ for hello/);
    expect(res.stderr).toMatch(/Deployed hello/);
    const { deployed } = res.json<{ deployed: { id: string; created: boolean; version?: string }[] }>();
    expect(deployed).toHaveLength(1);
    expect(deployed[0]?.created).toBe(true);
    botId = deployed[0]!.id;
    firstVersion = deployed[0]!.version!;
    expect(firstVersion).toEqual(expect.any(String));
  });

  it('bot list shows the bot and its hook', async () => {
    const res = await hookbot('bot', 'list');
    expectOk(res);
    expect(res.stdout).toMatch(new RegExp(`hello\\s+${botId}\\s+order-sign`));
  });

  it('bot execute runs it with the sample request', async () => {
    const res = await hookbot('bot', 'execute', 'hello', '--input', 'bots/hello/request.json', '--json');
    expectOk(res);
    expect(res.json<{ cards: { summary: string }[] }>().cards[0]?.summary).toBe(
      'hello reviewed 1 item(s) for patient example-patient',
    );
  });

  it('bot logs shows the execution and its console output', async () => {
    const res = await hookbot('bot', 'logs', 'hello');
    expectOk(res);
    expect(res.stdout).toMatch(/ok/);
    expect(res.stdout).toContain('order-sign for patient example-patient');
    const json = await hookbot('bot', 'logs', 'hello', '--json');
    expect(json.json<{ ok: boolean }[]>()[0]).toMatchObject({ ok: true });
  });

  it('bot logs --follow prints new executions until interrupted', async () => {
    const child = startCli(['bot', 'logs', 'hello', '--follow', '--interval', '1', '--count', '5'], {
      cwd: work,
      env: env(),
    });
    const done = collect(child);
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    await waitFor(() => seen.includes('order-sign for patient'));
    const before = (seen.match(/order-sign for patient/g) ?? []).length;
    expectOk(await hookbot('bot', 'execute', 'hello', '--input', 'bots/hello/request.json'));
    await waitFor(() => (seen.match(/order-sign for patient/g) ?? []).length > before);
    child.kill('SIGINT');
    expect((await done).code).toBe(0);
  });

  it('redeploys, lists versions and rolls back to the first code', async () => {
    const source = path.join(work, 'bots/hello/index.ts');
    await writeFile(source, (await readFile(source, 'utf8')).replace('reviewed', 'checked'));
    const redeploy = await hookbot('bot', 'deploy', 'hello');
    expectOk(redeploy);
    expect(redeploy.stderr).toMatch(/Found Bot\/\S+ for hello/);
    expect(redeploy.stderr).toMatch(/Deployed hello/);
    const after = await hookbot('bot', 'execute', 'hello', '--input', 'bots/hello/request.json', '--json');
    expect(after.json<{ cards: { summary: string }[] }>().cards[0]?.summary).toMatch(/^hello checked/);

    const versions = await hookbot('bot', 'versions', 'hello', '--json');
    expectOk(versions);
    const list = versions.json<{ versions: { version: string; current: boolean }[] }>().versions;
    expect(list.map((v) => v.version)).toContain(firstVersion);
    expect(list.length).toBeGreaterThanOrEqual(2);
    const human = await hookbot('bot', 'versions', 'hello');
    expect(human.stdout).toMatch(/VERSION\s+UPDATED/);

    const rollback = await hookbot('bot', 'rollback', 'hello', '--to', firstVersion);
    expectOk(rollback);
    expect(rollback.stdout).toContain(`version ${firstVersion}`);
    const rolled = await hookbot('bot', 'execute', 'hello', '--input', 'bots/hello/request.json', '--json');
    expect(rolled.json<{ cards: { summary: string }[] }>().cards[0]?.summary).toMatch(/^hello reviewed/);
  });

  it('rules validate, test and deploy the example rule sets', async () => {
    const file = path.join(rulesDir, 'crd-prior-auth.json');
    const validate = await hookbot('rules', 'validate', file);
    expectOk(validate);
    expect(validate.stdout).toMatch(/is a valid rule set/);
    for (const example of [
      'crd-prior-auth.json',
      'dme-sleep-study.yaml',
      'not-covered-alternative.json',
      'appointment-coverage.yaml',
    ]) {
      const res = await hookbot('rules', 'test', path.join(rulesDir, example));
      expectOk(res);
      expect(res.stdout).toMatch(/\d+ passed, 0 failed/);
    }
    const remote = await hookbot('rules', 'test', file, '--remote', '--json');
    expectOk(remote);
    expect(remote.json<{ results: { passed: boolean }[] }>().results.every((r) => r.passed)).toBe(true);
    const deploy = await hookbot('rules', 'deploy', file, '--json');
    expectOk(deploy);
    expect(deploy.json<{ bot: { id: string } }>().bot.id).toEqual(expect.any(String));
  });

  it('rules validate and test reject a broken rule set with pointers', async () => {
    const bad = path.join(work, 'bad-rules.json');
    await writeFile(bad, JSON.stringify({ id: 'bad', hook: 'order-sign', rules: 'nope' }));
    const res = await hookbot('rules', 'validate', bad);
    expectFailure(res, 1, /not a valid rule set/);
    expect(res.stderr).toMatch(/bad-rules\.json:1:\d+ #\/\S*/);
    expectFailure(await hookbot('rules', 'deploy', bad), 1, /not a valid rule set/);
    expectFailure(await hookbot('rules', 'test', path.join(work, 'missing.yaml')), 2, /Cannot read/);
  });

  it('hooks discover lists the services', async () => {
    const res = await hookbot('hooks', 'discover', '--json');
    expectOk(res);
    const { services } = res.json<{ services: { id: string; hook: string; title?: string }[] }>();
    helloServiceId = services.find((s) => s.id === botId)!.id;
    expect(helloServiceId).toBe(botId);
    expect(services.length).toBeGreaterThanOrEqual(2);
    const table = await hookbot('hooks', 'discover');
    expect(table.stdout).toMatch(/ID\s+HOOK\s+TITLE/);
    expect(table.stdout).toMatch(new RegExp(`${botId}\\s+order-sign\\s+hello`));
  });

  it('hooks invoke posts by service id and draws the cards', async () => {
    const ambiguous = await hookbot('hooks', 'invoke', 'order-sign', '--request', 'bots/hello/request.json');
    expectFailure(ambiguous, 2, /services answer order-sign; name one by id/);
    expect(ambiguous.stderr).toContain(botId);

    const res = await hookbot('hooks', 'invoke', botId, '--request', 'bots/hello/request.json');
    expectOk(res);
    expect(res.stdout).toMatch(/● INFO {2}hello reviewed 1 item\(s\) for patient example-patient/);
    expect(res.stdout).toMatch(/source: hello/);
    const json = await hookbot('hooks', 'invoke', botId, '--request', 'bots/hello/request.json', '--json');
    expect(json.json<{ cards: unknown[] }>().cards).toHaveLength(1);
  });

  it('hooks invoke warns about a valid card that a major EHR would not render', async () => {
    const token = await tenantToken();
    const created = await postBot(token, {
      name: 'epic-unfriendly',
      cdsService: { hook: 'patient-view', title: 'Epic unfriendly', description: 'at-most-one suggestions' },
    });
    const code = `exports.handler = async () => ({ cards: [{
      summary: 'Pick one', indicator: 'info', source: { label: 'cli test' }, selectionBehavior: 'at-most-one',
      suggestions: [{ label: 'Order it', actions: [{ type: 'create', description: 'Order',
        resource: { resourceType: 'ServiceRequest', status: 'draft', intent: 'order', subject: { reference: 'Patient/p' } } }] }],
    }] });`;
    const deployed = await request(`${t.url}/fhir/R4/Bot/${created.body.id}/$deploy`, {
      method: 'POST',
      token,
      json: { code },
    });
    expect(deployed.status).toBe(200);
    await writeFile(
      path.join(work, 'patient-view.json'),
      JSON.stringify({ hook: 'patient-view', context: { userId: 'Practitioner/1', patientId: 'p' } }),
    );

    const res = await hookbot('hooks', 'invoke', created.body.id, '--request', 'patient-view.json');
    expectOk(res);
    expect(res.stdout).toMatch(/Pick one/);
    expect(res.stderr).toMatch(
      /warning: cards\[0\]\.selectionBehavior: Epic shows suggestions only with selectionBehavior any/,
    );
  });

  it('hooks invoke signs a CDS Hooks client JWT with a key file, without any login', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES384', { extractable: true });
    const kid = 'ehr-key-1';
    const issuer = 'https://ehr.example.org';
    const adminToken = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const registered = await request(`${t.url}/admin/projects/${project.id}/clients`, {
      method: 'POST',
      token: adminToken,
      json: { name: 'Example EHR', issuer, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES384' }] } },
    });
    expect(registered.status).toBe(201);
    const keyFile = path.join(work, 'ehr-key.json');
    await writeFile(keyFile, JSON.stringify({ ...(await exportJWK(privateKey)), kid }));
    await chmod(keyFile, 0o600);

    const emptyConfig = { HOOKBOT_CONFIG_DIR: path.join(work, 'no-config'), HOME: work };
    const args = ['--key', keyFile, '--issuer', issuer, '--base-url', t.url];
    const discover = await runCli(['hooks', 'discover', ...args, '--json'], { cwd: work, env: emptyConfig });
    expectOk(discover);
    expect(discover.json<{ services: { id: string }[] }>().services.map((s) => s.id)).toContain(botId);
    const invoke = await runCli(['hooks', 'invoke', botId, '--request', 'bots/hello/request.json', ...args], {
      cwd: work,
      env: emptyConfig,
    });
    expectOk(invoke);
    expect(invoke.stdout).toMatch(/● INFO {2}hello reviewed/);

    const wrongIssuer = await runCli(
      [
        'hooks',
        'invoke',
        botId,
        '--request',
        'bots/hello/request.json',
        '--key',
        keyFile,
        '--issuer',
        'https://nobody.example',
        '--base-url',
        t.url,
      ],
      { cwd: work, env: emptyConfig },
    );
    expectFailure(wrongIssuer, 3, /HTTP 401/);
  });

  it('logs in with private_key_jwt', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS384', { extractable: true });
    const adminToken = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const registered = await request<{ clientId: string }>(`${t.url}/admin/projects/${project.id}/clients`, {
      method: 'POST',
      token: adminToken,
      json: {
        name: 'CI',
        issuer: 'ci',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'ci-1', alg: 'RS384' }] },
      },
    });
    expect(registered.status).toBe(201);
    const keyFile = path.join(work, 'ci-key.json');
    await writeFile(keyFile, JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'ci-1' }));
    const res = await hookbot(
      'login',
      '--base-url',
      t.url,
      '--client-id',
      registered.body.clientId,
      '--private-key',
      keyFile,
      '--profile',
      'ci',
    );
    expectOk(res);
    const me = await hookbot('whoami', '--profile', 'ci', '--json');
    expect(me.json()).toMatchObject({ clientId: registered.body.clientId, projectId: project.id });
    // back to the tenant's profile for the rest of the session
    expectOk(await loginAsTenant());
  });

  it('feedback stats counts accepted and overridden cards per service and card', async () => {
    const invoked = await hookbot('hooks', 'invoke', botId, '--request', 'bots/hello/request.json', '--json');
    const uuid = invoked.json<{ cards: { uuid: string }[] }>().cards[0]!.uuid;
    const sent = await sendFeedback(await tenantToken(), uuid, new Date().toISOString());
    expect(sent.status).toBeLessThan(300);
    const res = await hookbot('feedback', 'stats', '--json');
    expectOk(res);
    const service = res
      .json<{ services: { serviceId: string; cards: { accepted: number }[] }[] }>()
      .services.find((s) => s.serviceId === botId);
    expect(service?.cards[0]?.accepted).toBe(1);
    const table = await hookbot('feedback', 'stats');
    expect(table.stdout).toMatch(new RegExp(`${botId}\\s+\\S+\\s+1\\s+0\\s+100%`));
  });

  it('HOOKBOT_* variables replace a stored profile (CI)', async () => {
    const res = await runCli(['whoami', '--json'], {
      cwd: work,
      env: {
        HOOKBOT_CONFIG_DIR: path.join(work, 'ci-config'),
        HOME: work,
        HOOKBOT_BASE_URL: t.url,
        HOOKBOT_CLIENT_ID: tenant.clientId,
        HOOKBOT_CLIENT_SECRET: tenant.clientSecret,
      },
    });
    expectOk(res);
    expect(res.json()).toMatchObject({ clientId: tenant.clientId });
  });

  it('bot logs lists feedback in the order the server received it, whatever the EHR clock says', async () => {
    const token = await tenantToken();
    for (const [card, outcomeTimestamp] of [
      ['sent-first', '2026-01-02T00:00:00Z'],
      ['sent-second', '2026-01-01T00:00:00Z'],
    ] as const) {
      const sent = await sendFeedback(token, card, outcomeTimestamp);
      expect(sent.status).toBeLessThan(300);
    }
    const logs = await hookbot('bot', 'logs', 'hello', '--json', '--count', '50');
    expectOk(logs);
    const entries = logs.json<{ recorded: string; details: Record<string, string> }[]>();
    const cards = entries.map((e) => e.details.card).filter(Boolean);
    expect(cards.slice(-2)).toEqual(['sent-first', 'sent-second']);
    const times = entries.map((e) => Date.parse(e.recorded));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('bot versions finds a rule set by its id, its title and the Bot id rules deploy printed', async () => {
    const deploy = await hookbot('rules', 'deploy', path.join(rulesDir, 'crd-prior-auth.json'), '--json');
    expectOk(deploy);
    const { bot } = deploy.json<{ bot: { id: string; name: string } }>();
    for (const name of ['crd-prior-auth', bot.name, bot.id]) {
      const res = await hookbot('bot', 'versions', name, '--json');
      expectOk(res);
      expect(res.json<{ bot: { id: string } }>().bot.id).toBe(bot.id);
    }
  });

  it('bot deploy never takes over a Bot of the same name that answers another hook, unless --force', async () => {
    // The README's collision: a Bot made with curl, then a CLI bot of the same name.
    const token = await tenantToken();
    const other = await postBot(token, {
      name: 'clash',
      cdsService: { hook: 'patient-view', title: 'Clash', description: 'made with curl' },
    });
    expect(other.status).toBe(201);
    expectOk(await hookbot('bot', 'create', 'clash', '--hook', 'order-sign'));
    const refused = await hookbot('bot', 'deploy', 'clash');
    expectFailure(refused, 1, /Not deploying clash: Bot\/\S+ of that name answers patient-view, .* says order-sign/);
    expect(refused.stderr).toMatch(/--force/);
    const untouched = await request<{ cdsService: { hook: string } }>(`${t.url}/fhir/R4/Bot/${other.body.id}`, {
      token,
    });
    expect(untouched.body.cdsService.hook).toBe('patient-view');

    const forced = await hookbot('bot', 'deploy', 'clash', '--force');
    expectOk(forced);
    expect(forced.stderr).toContain(`Updated Bot/${other.body.id} for clash`);
    const rollback = await hookbot('bot', 'rollback', 'clash', '--to', '1');
    expectOk(rollback);
    expect(rollback.stdout).toMatch(/hook: order-sign → patient-view/);
    expect(rollback.stdout).toMatch(/has no code/);

    // A second Bot named clash: every lookup by that name is refused, listing both.
    const twin = await postBot(token, { name: 'clash' });
    const ambiguous = await hookbot('bot', 'versions', 'clash');
    expectFailure(ambiguous, 2, /2 Bots are named "clash"/);
    expect(ambiguous.stderr).toContain(`Bot/${other.body.id}`);
    expect(ambiguous.stderr).toContain(`Bot/${twin.body.id}`);
    expectFailure(await hookbot('bot', 'deploy', 'clash', '--force'), 2, /2 Bots are named "clash"/);
    expectOk(await hookbot('bot', 'versions', `Bot/${twin.body.id}`));
  });

  it('bot deploy type-checks a TypeScript bot first; --no-typecheck skips it', async () => {
    expectOk(await hookbot('bot', 'create', 'typed', '--hook', 'order-sign'));
    const source = path.join(work, 'bots/typed/index.ts');
    await writeFile(source, (await readFile(source, 'utf8')).replace("indicator: 'info',", "indicator: 'loud',"));
    const refused = await hookbot('bot', 'deploy', 'typed');
    expectFailure(refused, 1, /typed has type errors; nothing was deployed/);
    expect(refused.stderr).toMatch(/bots\/typed\/index\.ts:\d+:\d+: Type '"loud"' is not assignable/);
    expect((await hookbot('bot', 'list')).stdout).not.toMatch(/^typed /m);
    expectOk(await hookbot('bot', 'deploy', 'typed', '--no-typecheck'));
  });
});

describe('hookbot CLI error paths', () => {
  it('a wrong secret fails login with the OAuth error and exit 3, storing nothing', async () => {
    const dir = path.join(work, 'wrong-secret');
    const res = await runCli(
      ['login', '--base-url', t.url, '--client-id', t.demo.clientId, '--client-secret', 'wrong', '--profile', 'x'],
      { cwd: work, env: { HOOKBOT_CONFIG_DIR: dir, HOME: work } },
    );
    expectFailure(res, 3, /invalid_client/);
    expect(res.stderr).toMatch(/request id: \S+/);
    await expect(stat(path.join(dir, 'config.json'))).rejects.toThrow();
  });

  it('no profile: exit 3 and how to log in', async () => {
    const res = await runCli(['bot', 'list'], {
      cwd: work,
      env: { HOOKBOT_CONFIG_DIR: path.join(work, 'none'), HOME: work },
    });
    expectFailure(res, 3, /Not logged in[\s\S]*hookbot login/);
  });

  it('an unknown profile: exit 3', async () => {
    expectFailure(await hookbot('whoami', '--profile', 'nope'), 3, /No profile named "nope"/);
  });

  it('an unreachable server: exit 4', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const res = await runCli(['login', '--base-url', closed, '--client-id', 'a', '--client-secret', 'b'], {
      cwd: work,
      env: { HOOKBOT_CONFIG_DIR: path.join(work, 'unreachable'), HOME: work },
    });
    expectFailure(res, 4, /Cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('usage errors: exit 2 with a pointer to --help', async () => {
    expectFailure(
      await hookbot('bot', 'deploy', 'hello', '--bogus'),
      2,
      /unknown option '--bogus'[\s\S]*hookbot bot deploy --help/,
    );
    expectFailure(await hookbot('bot', 'rollback', 'hello'), 2, /required option '--to <version>'/);
    expectFailure(await hookbot('bot', 'logs', 'hello', '--count', 'zero'), 2, /positive whole number/);
    expectFailure(
      await hookbot('bot', 'create', 'x', '--hook', 'order-sing'),
      2,
      /Unknown hook "order-sing"[\s\S]*order-sign/,
    );
    expectFailure(await hookbot('bot', 'deploy', 'nothing-*'), 2, /No bot in hookbot.config.json matches "nothing-\*"/);
    expectFailure(await hookbot('bot', 'execute', 'hello', '--input', 'nope.json'), 2, /Cannot read/);
    expect((await hookbot('bot')).code).toBe(2);
    const help = await hookbot('hooks', 'invoke', '--help');
    expectOk(help);
    expect(help.stdout).toMatch(/Example:\n {2}\$ hookbot hooks invoke/);
  });

  it('server refusals show the diagnostic and the request id, exit 1', async () => {
    const res = await hookbot('bot', 'rollback', 'hello', '--to', '9999');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/_history\/9999 failed: HTTP 404/);
    expect(res.stderr).toMatch(/request id: \S+/);
    const json = await hookbot('bot', 'rollback', 'hello', '--to', '9999', '--json');
    expect(json.json<{ error: { code: string; requestId: string } }>().error).toMatchObject({
      code: 'failed',
      requestId: expect.any(String),
    });
  });

  it('unknown bot and unknown service: exit 2, as --help says, with what exists', async () => {
    expectFailure(await hookbot('bot', 'execute', 'ghost'), 2, /No Bot named "ghost"/);
    expect((await hookbot('bot', 'execute', '--help')).stdout).toMatch(
      /^ {2}2 {2}usage error: .*unknown or ambiguous bot/m,
    );
    expectFailure(
      await hookbot('hooks', 'invoke', 'ghost', '--request', 'bots/hello/request.json'),
      2,
      /No CDS service with id, hook or title "ghost"[\s\S]*Available:/,
    );
  });

  it('a bot that does not compile fails the build with file and line', async () => {
    expectOk(await hookbot('bot', 'create', 'broken'));
    await writeFile(path.join(work, 'bots/broken/index.ts'), 'export const handler = async ( => 1;\n');
    const checked = await hookbot('bot', 'deploy', 'broken');
    expectFailure(checked, 1, /broken has type errors[\s\S]*bots\/broken\/index\.ts:1:\d+/);
    const res = await hookbot('bot', 'deploy', 'broken', '--no-typecheck');
    expectFailure(res, 1, /Cannot build broken[\s\S]*bots\/broken\/index\.ts:1:\d+/);
  });

  it('a tenant cannot use admin commands: exit 3 with the server diagnostic', async () => {
    const res = await hookbot('admin', 'project', 'create', 'nope');
    expectFailure(res, 3, /HTTP 403/);
    expect(res.stderr).toMatch(/request id: \S+/);
  });
});

describe('hookbot pas end to end', () => {
  it('binds the demo rule set and submits the seed request, one table row per item', async () => {
    const login = await hookbot(
      'login',
      '--base-url',
      t.url,
      '--client-id',
      t.demo.clientId,
      '--client-secret',
      t.demo.clientSecret,
      '--profile',
      'demo-pas',
    );
    expectOk(login);
    expectOk(await hookbot('rules', 'deploy', path.join(rulesDir, 'pas-cardiac-cath.json'), '--profile', 'demo-pas'));
    const bind = await hookbot('pas', 'bind', 'pas-cardiac-cath', '--profile', 'demo-pas');
    expectOk(bind);
    expect(bind.stdout).toMatch(/pas-cardiac-cath \(Bot\/\S+\) now decides prior authorization requests/);
    const seed = path.join(REPO_ROOT, 'examples/pas/seed-request.json');
    const submit = await hookbot('pas', 'submit', seed, '--profile', 'demo-pas', '--no-color');
    expectOk(submit);
    expect(submit.stdout).toMatch(
      /^1\s+93456\s+A1 Certified in total\s+PA\w+-1\s+\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}/m,
    );
    const json = await hookbot('pas', 'submit', seed, '--profile', 'demo-pas', '--json');
    expectOk(json);
    expect(json.json<{ entry: { resource: { resourceType: string } }[] }>().entry[0]?.resource.resourceType).toBe(
      'ClaimResponse',
    );
  });
});

describe('every --help example, run as shown', () => {
  it('runs the example of every command, in the order of a session, in a folder holding examples/', async () => {
    // Only the server's address and the credentials, which the examples spell as placeholders, are filled in.
    // Outside the session's folder, whose hookbot.config.json `bot create` would otherwise use.
    const dir = await mkdtemp(path.join(REPO_ROOT, 'tmp', 'cli-help-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await symlink(path.join(REPO_ROOT, 'examples'), path.join(dir, 'examples'));
    const helpEnv = { HOOKBOT_CONFIG_DIR: path.join(dir, 'config'), HOME: dir };
    const run = (argv: string[]) => runCli(argv, { cwd: dir, env: helpEnv });
    const argvOf = (example: string) =>
      example
        .replace(/^hookbot /, '')
        .replace('http://localhost:8103', t.url)
        .split(' ')
        .map((w) => w.replace(/^'(.*)'$/, '$1'));
    let tenantLogin: string[] = [];
    let projectId = '';
    const names = Object.keys(EXAMPLES) as (keyof typeof EXAMPLES)[];
    expect(names).toHaveLength(Object.keys(COMMANDS).length);
    for (const name of names) {
      const help = await run([...name.split(' '), '--help']);
      expectOk(help);
      const example = /Example:\n {2}\$ (.+)\n/.exec(help.stdout)?.[1] ?? '';
      expect(example, name).toBe(EXAMPLES[name]);
      let argv = argvOf(example);
      if (name === 'login') {
        // The super-admin first, for `admin project create`; the project's own client after it.
        argv = argv.map((w) => (w === 'ID' ? t.admin.clientId : w === 'SECRET' ? t.admin.clientSecret : w));
      }
      if (name === 'admin client create') {
        // The project just created, and a client certificate in the session's folder.
        argv = argv.map((w) => (w === 'PROJECT_ID' ? projectId : w));
        await writeFile(path.join(dir, 'partner.pem'), (await createClientCertificate('CN=clearinghouse')).cert);
      }
      if (name === 'pas bind') {
        // The prior authorization examples use the demo project: its seed deploys the example PAS rule set and holds
        // the member the example request names.
        expectOk(
          await run([
            'login',
            '--base-url',
            t.url,
            '--client-id',
            t.demo.clientId,
            '--client-secret',
            t.demo.clientSecret,
          ]),
        );
      }
      if (name === 'bot logs') {
        const child = startCli(argv, { cwd: dir, env: helpEnv });
        const done = collect(child);
        let seen = '';
        child.stdout?.on('data', (chunk: Buffer) => (seen += chunk.toString()));
        await waitFor(() => seen.includes('order-sign for patient'));
        child.kill('SIGINT');
        expect((await done).code, name).toBe(0);
        continue;
      }
      const superAdmin = ['login', '--base-url', t.url, '--client-id', t.admin.clientId];
      // Registering a client is the super-admin's: signed in as them for it, as the tenant again after.
      if (name === 'admin client create') expectOk(await run([...superAdmin, '--client-secret', t.admin.clientSecret]));
      const res = await run(argv);
      expect(res.code, `${example}\nstdout:\n${res.stdout}\nstderr:\n${res.stderr}`).toBe(0);
      if (name === 'admin project create') {
        projectId = /\(([^)\s]+)\)\n/.exec(res.stdout)?.[1] ?? '';
        const client = /client id +(\S+)[\s\S]*client secret +(\S+)/.exec(res.stdout);
        tenantLogin = [
          'login',
          '--base-url',
          t.url,
          '--client-id',
          client?.[1] ?? '',
          '--client-secret',
          client?.[2] ?? '',
        ];
      }
      // The super-admin registers a client in the new project, then works in the project as its first client.
      if (name === 'admin client create') {
        expect(res.stdout).toMatch(/x5t#S256 [\w-]{43}/);
        expectOk(await run(tenantLogin));
      }
      if (name === 'hooks invoke') expect(res.stdout).toMatch(/prior-auth reviewed 1 item/);
    }
    expect(tenantLogin).not.toEqual([]);
    // About twenty CLI processes, one after the other.
  }, 120_000);
});

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for CLI output');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
