import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { EXAMPLES, parseArgv, VERSION, type Invocation } from './cli.js';
import { CliError } from './errors.js';

const io = { writeOut: () => undefined, writeErr: () => undefined };
const parse = (line: string) => parseArgv(line.split(' ').filter(Boolean), io);
const plain = { json: false };

describe('parseArgv maps flags to typed options', () => {
  it.each<[string, Invocation]>([
    [
      'login --base-url http://h --client-id c --client-secret s',
      { command: 'login', options: { baseUrl: 'http://h', clientId: 'c', clientSecret: 's' }, global: plain },
    ],
    [
      'login --base-url http://h --client-id c --private-key k.json --key-id k1 --profile ci',
      {
        command: 'login',
        options: { baseUrl: 'http://h', clientId: 'c', privateKey: 'k.json', keyId: 'k1' },
        global: { json: false, profile: 'ci' },
      },
    ],
    [
      'login --base-url https://h:8443 --client-id c --cert c.pem --key c.key',
      {
        command: 'login',
        options: { baseUrl: 'https://h:8443', clientId: 'c', cert: 'c.pem', key: 'c.key' },
        global: plain,
      },
    ],
    ['whoami --json', { command: 'whoami', options: {}, global: { json: true } }],
    ['admin project create acme', { command: 'admin project create', options: { name: 'acme' }, global: plain }],
    [
      'admin client create edi --project p1 --role partner --cert c.pem --require-mtls',
      {
        command: 'admin client create',
        options: { name: 'edi', project: 'p1', role: 'partner', cert: 'c.pem', requireMtls: true },
        global: plain,
      },
    ],
    [
      'admin client create ca --project p1 --scope cds-hooks --subject-dn CN=ehr,O=Acme',
      {
        command: 'admin client create',
        options: { name: 'ca', project: 'p1', scope: 'cds-hooks', subjectDn: 'CN=ehr,O=Acme' },
        global: plain,
      },
    ],
    [
      'bot create pa --hook order-sign',
      { command: 'bot create', options: { name: 'pa', hook: 'order-sign' }, global: plain },
    ],
    ['bot create plain', { command: 'bot create', options: { name: 'plain' }, global: plain }],
    ['bot build', { command: 'bot build', options: { names: [] }, global: plain }],
    ['bot build a b', { command: 'bot build', options: { names: ['a', 'b'] }, global: plain }],
    ['bot deploy crd-* x', { command: 'bot deploy', options: { patterns: ['crd-*', 'x'] }, global: plain }],
    [
      'bot deploy hello --force --no-typecheck',
      { command: 'bot deploy', options: { patterns: ['hello'], force: true, typecheck: false }, global: plain },
    ],
    ['bot list --no-color', { command: 'bot list', options: {}, global: { json: false, color: false } }],
    [
      'bot execute pa --input in.json --json',
      { command: 'bot execute', options: { name: 'pa', input: 'in.json' }, global: { json: true } },
    ],
    ['bot execute pa', { command: 'bot execute', options: { name: 'pa' }, global: plain }],
    [
      'bot logs pa',
      { command: 'bot logs', options: { name: 'pa', follow: false, count: 20, interval: 2 }, global: plain },
    ],
    [
      'bot logs pa -f -n 5 --interval 10',
      { command: 'bot logs', options: { name: 'pa', follow: true, count: 5, interval: 10 }, global: plain },
    ],
    ['bot versions pa', { command: 'bot versions', options: { name: 'pa' }, global: plain }],
    ['bot rollback pa --to 3', { command: 'bot rollback', options: { name: 'pa', to: '3' }, global: plain }],
    ['rules validate r.yaml', { command: 'rules validate', options: { file: 'r.yaml' }, global: plain }],
    ['rules test r.yaml', { command: 'rules test', options: { file: 'r.yaml', remote: false }, global: plain }],
    ['rules test r.yaml --remote', { command: 'rules test', options: { file: 'r.yaml', remote: true }, global: plain }],
    ['rules deploy r.json', { command: 'rules deploy', options: { file: 'r.json' }, global: plain }],
    ['hooks discover', { command: 'hooks discover', options: {}, global: plain }],
    [
      'hooks invoke order-sign --request req.json',
      { command: 'hooks invoke', options: { target: 'order-sign', request: 'req.json' }, global: plain },
    ],
    [
      'hooks invoke svc --request r.json --key k.pem --issuer https://ehr --kid k1 --jku https://ehr/jwks --base-url http://h',
      {
        command: 'hooks invoke',
        options: {
          target: 'svc',
          request: 'r.json',
          key: 'k.pem',
          issuer: 'https://ehr',
          kid: 'k1',
          jku: 'https://ehr/jwks',
          baseUrl: 'http://h',
        },
        global: plain,
      },
    ],
    ['feedback stats --json', { command: 'feedback stats', options: {}, global: { json: true } }],
  ])('%s', (line, expected) => {
    expect(parse(line)).toEqual({ invocation: expected });
  });
});

describe('parseArgv usage errors', () => {
  it.each([
    ['bot deploy', /missing required argument 'patterns'/],
    ['bot deploy x --bogus', /unknown option '--bogus'/],
    ['bot rollback pa', /required option '--to <version>' not specified/],
    ['bot logs pa --count 0', /positive whole number/],
    ['hooks invoke svc', /required option '--request <file>'/],
    ['frobnicate', /unknown command 'frobnicate'/],
  ])('%s', (line, message) => {
    let caught: unknown;
    try {
      parse(line);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).code).toBe('usage');
    expect((caught as CliError).exitCode).toBe(2);
    expect((caught as CliError).message).toMatch(message);
  });

  it('names the command in the --help hint', () => {
    expect(() => parse('bot deploy x --bogus')).toThrow(
      expect.objectContaining({ details: { lines: ['Run hookbot bot deploy --help for usage.'] } }),
    );
  });

  it('points an unknown subcommand at the help of the group that exists', () => {
    expect(() => parse('admin project bogus')).toThrow(
      expect.objectContaining({ details: { lines: ['Run hookbot admin project --help for usage.'] } }),
    );
    expect(() => parse('bot bogus x')).toThrow(
      expect.objectContaining({ details: { lines: ['Run hookbot bot --help for usage.'] } }),
    );
  });
});

describe('parseArgv help', () => {
  /** `COMMAND --help`: what parseArgv returns and what it printed. */
  const help = (command: string) => {
    let text = '';
    const result = parseArgv([...command.split(' '), '--help'], {
      writeOut: (t) => (text += t),
      writeErr: () => undefined,
    });
    return { result, text };
  };

  it('--help exits 0 and every command has an example', () => {
    for (const command of Object.keys(EXAMPLES)) {
      const { result, text } = help(command);
      expect(result).toEqual({ exitCode: 0 });
      expect(text).toMatch(new RegExp(`Example:\\n  \\$ hookbot ${command.split(' ')[0]}`));
      expect(text).toContain('--json');
    }
  });

  it('every --help shows the example of EXAMPLES, which names only files of the repository or of the session', () => {
    for (const [command, example] of Object.entries(EXAMPLES)) {
      expect(help(command).text).toContain(`Example:\n  $ ${example}\n`);
      for (const file of example.split(' ').filter((w) => w.startsWith('examples/'))) {
        expect(existsSync(new URL(`../../../${file}`, import.meta.url)), file).toBe(true);
      }
      for (const file of example.split(' ').filter((w) => w.startsWith('bots/'))) {
        expect(file, 'a bots/ file must be one that an earlier example creates').toMatch(/^bots\/prior-auth\//);
      }
    }
  });

  it('login --help says --profile names the profile the login is saved as', () => {
    expect(help('login').text.replace(/\s+/g, ' ')).toMatch(/--profile <name> save the login as this profile/);
  });

  it('a command group without a subcommand prints help and is a usage error', () => {
    let text = '';
    expect(parseArgv(['bot'], { writeOut: () => undefined, writeErr: (t) => (text += t) })).toEqual({ exitCode: 2 });
    expect(text).toContain('deploy');
  });
});

describe('--version', () => {
  it('prints the version of the package', () => {
    const printed: string[] = [];
    const parsed = parseArgv(['--version'], { writeOut: (t) => printed.push(t), writeErr: () => undefined });
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(parsed).toEqual({ exitCode: 0 });
    expect(printed.join('').trim()).toBe(pkg.version);
    expect(VERSION).toBe(pkg.version);
  });
});
