import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HookbotApi, type Fetch } from '../api.js';
import { takeoverConflict } from './bot-deploy.js';
import { describeRollback } from './bot-rollback.js';
import { typeErrors } from './bot-typecheck.js';
import { requireBot, RULE_SET_SYSTEM, type BotResource } from './bots-api.js';

const bot = (fields: Partial<BotResource>): BotResource => ({ resourceType: 'Bot', id: 'b1', ...fields });

/** A server holding `bots`, answering the Bot searches and reads the CLI makes. */
function serverWith(bots: BotResource[]): HookbotApi {
  const impl: Fetch = async (input) => {
    const url = new URL(String(input));
    if (url.pathname === '/oauth2/token') return Response.json({ access_token: 't' });
    const bundle = (list: BotResource[]) =>
      Response.json({ resourceType: 'Bundle', entry: list.map((resource) => ({ resource })) });
    if (url.pathname === '/fhir/R4/Bot') {
      const name = url.searchParams.get('name');
      const identifier = url.searchParams.get('identifier');
      if (name) return bundle(bots.filter((b) => b.name?.startsWith(name)));
      return bundle(bots.filter((b) => b.identifier?.some((i) => `${i.system}|${i.value}` === identifier)));
    }
    const found = bots.find((b) => url.pathname === `/fhir/R4/Bot/${b.id}`);
    return found ? Response.json(found) : Response.json({ resourceType: 'OperationOutcome' }, { status: 404 });
  };
  return new HookbotApi({ baseUrl: 'http://hookbot.test', clientId: 'c', clientSecret: 's' }, impl);
}

describe('requireBot: a bot is found by its name, its id or its rule set id', () => {
  const ruleSetBot = bot({
    id: 'r9',
    name: 'CRD prior authorization',
    identifier: [{ system: RULE_SET_SYSTEM, value: 'crd-prior-auth' }],
  });
  const api = serverWith([bot({ id: 'h1', name: 'hello' }), bot({ id: 'h2', name: 'hello-world' }), ruleSetBot]);

  it.each([
    ['hello', 'h1'],
    ['CRD prior authorization', 'r9'],
    ['crd-prior-auth', 'r9'],
    ['r9', 'r9'],
    ['Bot/r9', 'r9'],
  ])('%s → Bot/%s', async (name, id) => {
    expect((await requireBot(api, name)).id).toBe(id);
  });

  it('an unknown name is a usage error (exit 2)', async () => {
    await expect(requireBot(api, 'ghost')).rejects.toMatchObject({ code: 'usage', exitCode: 2 });
  });

  it('a name two Bots share is an error listing both, never the newest picked silently', async () => {
    const twice = serverWith([
      bot({ id: 'old', name: 'hello', cdsService: { hook: 'patient-view' } }),
      bot({ id: 'new', name: 'hello', cdsService: { hook: 'order-sign' } }),
    ]);
    const error = await requireBot(twice, 'hello').then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; details: { lines: string[] } },
    );
    expect(error?.code).toBe('usage');
    expect(error?.message).toMatch(/2 Bots are named "hello"/);
    expect(error?.details.lines.join('\n')).toMatch(/Bot\/old {2}hook patient-view[\s\S]*Bot\/new {2}hook order-sign/);
  });
});

describe('bot deploy never takes over another Bot silently', () => {
  const entry = {
    name: 'hello',
    source: 'bots/hello/index.ts',
    cdsService: { hook: 'order-sign', title: 'hello', description: 'Says hello' },
  };

  it('refuses a Bot of the same name that answers another hook', () => {
    expect(takeoverConflict(bot({ name: 'hello', cdsService: { hook: 'patient-view' } }), entry)).toBe(
      'answers patient-view, and hookbot.config.json says order-sign',
    );
  });

  it('refuses a Bot that serves a rule set', () => {
    const ruleSet = bot({ name: 'hello', identifier: [{ system: RULE_SET_SYSTEM, value: 'r' }] });
    expect(takeoverConflict({ ...ruleSet, cdsService: { hook: 'order-sign' } }, entry)).toMatch(/rule set "r"/);
  });

  it('updates its own Bot (same hook)', () => {
    expect(takeoverConflict(bot({ name: 'hello', cdsService: { hook: 'order-sign' } }), entry)).toBeUndefined();
  });
});

describe('bot rollback says what it restores', () => {
  const code = (url: string) => ({ contentType: 'application/javascript', url });
  it('names a hook the rollback changes back', () => {
    const current = bot({ cdsService: { hook: 'order-sign' }, executableCode: code('Binary/2') });
    const target = bot({ meta: { versionId: '1' }, cdsService: { hook: 'patient-view' }, executableCode: code('B/1') });
    expect(describeRollback(current, target)).toEqual(["code: version 1's", 'hook: order-sign → patient-view']);
  });

  it('warns that a version without code leaves the bot unable to run', () => {
    expect(describeRollback(bot({ executableCode: code('B/2') }), bot({}))[0]).toMatch(/has no code/);
  });
});

describe('bot deploy type-checks TypeScript', () => {
  it('finds a deliberate type error, with file, line and column', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hookbot-tc-'));
    await writeFile(
      path.join(dir, 'bot.ts'),
      'export async function handler(): Promise<{ cards: string[] }> {\n  console.log("hi");\n  return { cards: [1] };\n}\n',
    );
    expect(await typeErrors(dir, path.join(dir, 'bot.ts'))).toEqual([
      "bot.ts:3:20: Type 'number' is not assignable to type 'string'.",
    ]);
  });

  it('accepts what the scaffold writes, and does not check JavaScript', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hookbot-tc-'));
    const { botSource } = await import('./bot-templates.js');
    await writeFile(path.join(dir, 'a.ts'), botSource({ name: 'a', hook: 'order-sign' }));
    await writeFile(path.join(dir, 'b.js'), 'exports.handler = 1 + "x" - {};');
    expect(await typeErrors(dir, path.join(dir, 'a.ts'))).toEqual([]);
    expect(await typeErrors(dir, path.join(dir, 'b.js'))).toEqual([]);
  });
});
