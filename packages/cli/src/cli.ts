/**
 * The command line → a typed invocation. Only flag mapping lives here: no I/O besides commander's own help
 * text, no process.exit (main.ts decides the exit code). cli.test.ts checks it as a table of argv → invocation.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { CommandName, CommandOptions } from './commands/index.js';
import { CliError } from './errors.js';

export interface GlobalOptions {
  json: boolean;
  profile?: string;
  /** `--no-color` sets false; otherwise the terminal decides. */
  color?: false;
}

export type Invocation = {
  [K in CommandName]: { command: K; options: CommandOptions[K]; global: GlobalOptions };
}[CommandName];

export type Parsed = { invocation: Invocation } | { exitCode: number };

export interface HelpWriter {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

/** The published version: package.json sits one folder up from both src/ and dist/. */
export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export function parseArgv(argv: string[], io: HelpWriter): Parsed {
  let invocation: Invocation | undefined;
  const set = <K extends CommandName>(command: K, options: CommandOptions[K], opts: Record<string, unknown>) => {
    invocation = { command, options, global: globalOptions(opts) } as Invocation;
  };
  const program = buildProgram(set, io);
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return { exitCode: 0 };
    // Help printed because a command group was given without a subcommand.
    if (error.code === 'commander.help' || error.code === 'commander.executeSubCommandAsync') return { exitCode: 2 };
    throw new CliError('usage', error.message.replace(/^error: /, ''), {
      lines: [`Run hookbot ${commandPath(argv)}--help for usage.`],
    });
  }
  if (!invocation) return { exitCode: 2 };
  return { invocation };
}

type Setter = <K extends CommandName>(command: K, options: CommandOptions[K], opts: Record<string, unknown>) => void;

function buildProgram(set: Setter, io: HelpWriter): Command {
  const program = new Command('hookbot')
    .description('Deploy and test Hookbot bots, rule sets and CDS Hooks services.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr, outputError: () => undefined })
    .showHelpAfterError(false)
    .addHelpText('after', EXIT_CODES_HELP);

  const leaf = (parent: Command, spec: string, description: string, example: string) =>
    parent
      .command(spec)
      .description(description)
      .option('--json', 'print the result as JSON (for scripts)')
      .option('--profile <name>', 'login profile to use (default: the last one logged in)')
      .option('--no-color', 'plain text output')
      .addHelpText('after', `\nExample:\n  $ ${example}\n`);

  leaf(
    program,
    'login',
    'Check client credentials against a server and store them as a profile (file mode 0600).',
    'hookbot login --base-url https://hookbot.example.org --client-id ID --client-secret SECRET',
  )
    .option('--base-url <url>', 'server base URL (or HOOKBOT_BASE_URL)')
    .option('--client-id <id>', 'client id (or HOOKBOT_CLIENT_ID)')
    .option('--client-secret <secret>', 'client secret (or HOOKBOT_CLIENT_SECRET)')
    .option('--private-key <file>', 'sign in with private_key_jwt using this JWK or PEM key instead of a secret')
    .option('--key-id <kid>', 'kid to put in the client assertion header')
    .action((opts: Record<string, unknown>) =>
      set(
        'login',
        pick<CommandOptions['login']>(opts, ['baseUrl', 'clientId', 'clientSecret', 'privateKey', 'keyId']),
        opts,
      ),
    );

  leaf(program, 'whoami', 'Show the client, project and scope of the current profile.', 'hookbot whoami --json').action(
    (opts: Record<string, unknown>) => set('whoami', {}, opts),
  );

  const admin = program.command('admin').description('Super-admin commands.');
  const project = admin.command('project').description('Projects (tenants).');
  leaf(
    project,
    'create <name>',
    'Create a project and print its first client credentials.',
    'hookbot admin project create acme-health',
  ).action((name: string, opts: Record<string, unknown>) => set('admin project create', { name }, opts));

  const bot = program.command('bot').description('Write, build, deploy and run bots.');
  leaf(
    bot,
    'create <name>',
    'Scaffold a TypeScript bot, its test and its hookbot.config.json entry.',
    'hookbot bot create prior-auth --hook order-sign',
  )
    .option('--hook <hook>', 'answer this CDS hook (e.g. order-sign); omit for a plain bot')
    .option('--description <text>', 'service description shown in discovery')
    .action((name: string, opts: Record<string, unknown>) =>
      set(
        'bot create',
        { name, ...pick<Omit<CommandOptions['bot create'], 'name'>>(opts, ['hook', 'description']) },
        opts,
      ),
    );
  leaf(
    bot,
    'build [names...]',
    'Bundle bots with esbuild into one CommonJS file each (all bots by default).',
    'hookbot bot build prior-auth',
  ).action((names: string[], opts: Record<string, unknown>) => set('bot build', { names }, opts));
  leaf(
    bot,
    'deploy <patterns...>',
    'Build, create or update, and deploy bots by name or glob.',
    "hookbot bot deploy 'crd-*'",
  ).action((patterns: string[], opts: Record<string, unknown>) => set('bot deploy', { patterns }, opts));
  leaf(bot, 'list', "List the project's bots.", 'hookbot bot list').action((opts: Record<string, unknown>) =>
    set('bot list', {}, opts),
  );
  leaf(
    bot,
    'execute <name>',
    'Run a deployed bot with an input file.',
    'hookbot bot execute prior-auth --input bots/prior-auth/request.json',
  )
    .option('--input <file>', 'request body: JSON, or text when the file is not JSON')
    .action((name: string, opts: Record<string, unknown>) =>
      set('bot execute', { name, ...pick<{ input?: string }>(opts, ['input']) }, opts),
    );
  leaf(
    bot,
    'logs <name>',
    "Show a bot's recent executions and their console output.",
    'hookbot bot logs prior-auth --follow',
  )
    .option('-f, --follow', 'keep polling for new executions')
    .option('-n, --count <n>', 'how many executions to show', positiveInt, 20)
    .option('--interval <seconds>', 'seconds between polls with --follow', positiveInt, 2)
    .action((name: string, opts: Record<string, unknown>) =>
      set(
        'bot logs',
        { name, follow: Boolean(opts.follow), count: opts.count as number, interval: opts.interval as number },
        opts,
      ),
    );
  leaf(bot, 'versions <name>', "List a bot's versions.", 'hookbot bot versions prior-auth').action(
    (name: string, opts: Record<string, unknown>) => set('bot versions', { name }, opts),
  );
  leaf(bot, 'rollback <name>', 'Run the code of an earlier version again.', 'hookbot bot rollback prior-auth --to 3')
    .requiredOption('--to <version>', 'the version to roll back to (see hookbot bot versions)')
    .action((name: string, opts: Record<string, unknown>) => set('bot rollback', { name, to: String(opts.to) }, opts));

  const rules = program.command('rules').description('Rule sets for analysts.');
  leaf(
    rules,
    'validate <file>',
    'Check a rule set (JSON or YAML) locally.',
    'hookbot rules validate examples/rules/crd-prior-auth.yaml',
  ).action((file: string, opts: Record<string, unknown>) => set('rules validate', { file }, opts));
  leaf(
    rules,
    'test <file>',
    "Run a rule set's test cases (locally, or on the server with --remote).",
    'hookbot rules test examples/rules/crd-prior-auth.yaml',
  )
    .option('--remote', 'run the tests on the server ($test-rules)')
    .action((file: string, opts: Record<string, unknown>) =>
      set('rules test', { file, remote: Boolean(opts.remote) }, opts),
    );
  leaf(
    rules,
    'deploy <file>',
    'Validate and deploy a rule set as a CDS service.',
    'hookbot rules deploy examples/rules/crd-prior-auth.yaml',
  ).action((file: string, opts: Record<string, unknown>) => set('rules deploy', { file }, opts));

  const hooks = program.command('hooks').description('See what an EHR sees.');
  const withKey = (cmd: Command) =>
    cmd
      .option(
        '--key <file>',
        'sign a CDS Hooks client JWT with this private key (JWK or PEM) instead of the login token',
      )
      .option('--issuer <iss>', 'JWT iss: the issuer the EHR client is registered with')
      .option('--kid <kid>', 'JWT header kid (default: the JWK kid)')
      .option('--jku <url>', 'JWT header jku (a JWKS URL the server allows)')
      .option('--base-url <url>', 'server to call when signing with --key and no profile is stored');
  withKey(leaf(hooks, 'discover', 'List the CDS services (GET /cds-services).', 'hookbot hooks discover')).action(
    (opts: Record<string, unknown>) => set('hooks discover', pick(opts, KEY_FLAGS), opts),
  );
  withKey(
    leaf(
      hooks,
      'invoke <hook-or-id>',
      'Call a CDS service as an EHR: discovery, then POST by the service id; cards drawn for the terminal.',
      'hookbot hooks invoke order-sign --request bots/prior-auth/request.json',
    ),
  )
    .requiredOption('--request <file>', 'the CDS Hooks request (JSON)')
    .action((target: string, opts: Record<string, unknown>) =>
      set(
        'hooks invoke',
        { target, request: String(opts.request), ...pick<CommandOptions['hooks discover']>(opts, KEY_FLAGS) },
        opts,
      ),
    );

  const feedback = program.command('feedback').description('Clinician feedback on cards.');
  leaf(feedback, 'stats', 'Accepted and overridden counts per service and card.', 'hookbot feedback stats').action(
    (opts: Record<string, unknown>) => set('feedback stats', {}, opts),
  );
  return program;
}

const KEY_FLAGS = ['key', 'issuer', 'kid', 'jku', 'baseUrl'];

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failed: the server refused the request, a test failed, or a check found problems
  2  usage error: bad flags or arguments, unknown bot, unreadable input file
  3  auth or config error: not logged in, bad credentials, HTTP 401/403
  4  network error: the server cannot be reached
`;

function globalOptions(opts: Record<string, unknown>): GlobalOptions {
  return {
    json: Boolean(opts.json),
    ...(typeof opts.profile === 'string' ? { profile: opts.profile } : {}),
    ...(opts.color === false ? { color: false as const } : {}),
  };
}

/** The defined string flags among `keys`, so options objects carry no `undefined` members. */
function pick<T>(opts: Record<string, unknown>, keys: string[]): T {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (opts[key] !== undefined) out[key] = opts[key];
  return out as T;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** "bot deploy " from argv, for the hint after a usage error. */
function commandPath(argv: string[]): string {
  const words: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith('-') || words.length === 3) break;
    words.push(arg);
  }
  const groups = ['admin', 'project', 'bot', 'rules', 'hooks', 'feedback'];
  if (!['login', 'whoami', ...groups].includes(words[0] ?? '')) return '';
  const path = words.filter((w, i) => i === 0 || groups.includes(words[i - 1] ?? '')).slice(0, 3);
  return path.length ? `${path.join(' ')} ` : '';
}
