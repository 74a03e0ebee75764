/**
 * The command line → a typed invocation. Only flag mapping lives here: no I/O besides commander's own help
 * text, no process.exit (main.ts decides the exit code). cli.test.ts checks it as a table of argv → invocation.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { CommandName, CommandOptions } from './commands/index.js';
import { CliError, EXIT_CODES_HELP } from './errors.js';

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
      lines: [`Run hookbot ${commandPath(program, argv)}--help for usage.`],
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

  const leaf = (parent: Command, spec: string, description: string, name: CommandName) =>
    parent
      .command(spec)
      .description(description)
      .option('--json', 'print the result as JSON (for scripts)')
      .option(
        '--profile <name>',
        name === 'login'
          ? 'save the login as this profile and make it the current one (default: "default")'
          : 'login profile to use (default: the last one logged in)',
      )
      .option('--no-color', 'plain text output')
      .addHelpText('after', `\nExample:\n  $ ${EXAMPLES[name]}\n${EXIT_CODES_HELP}`);

  leaf(
    program,
    'login',
    'Check client credentials against a server and store them as a profile (file mode 0600).',
    'login',
  )
    .option('--base-url <url>', 'server base URL (or HOOKBOT_BASE_URL)')
    .option('--client-id <id>', 'client id (or HOOKBOT_CLIENT_ID)')
    .option('--client-secret <secret>', 'client secret (or HOOKBOT_CLIENT_SECRET)')
    .option('--private-key <file>', 'sign in with private_key_jwt using this JWK or PEM key instead of a secret')
    .option('--key-id <kid>', 'kid to put in the client assertion header')
    .option('--cert <file>', 'sign in with mutual TLS (RFC 8705) presenting this client certificate (PEM)')
    .option('--key <file>', "the client certificate's private key (PEM), with --cert")
    .action((opts: Record<string, unknown>) =>
      set(
        'login',
        pick<CommandOptions['login']>(opts, [
          'baseUrl',
          'clientId',
          'clientSecret',
          'privateKey',
          'keyId',
          'cert',
          'key',
        ]),
        opts,
      ),
    );

  leaf(program, 'whoami', 'Show the client, project and scope of the current profile.', 'whoami').action(
    (opts: Record<string, unknown>) => set('whoami', {}, opts),
  );

  const admin = program.command('admin').description('Super-admin commands.');
  const project = admin.command('project').description('Projects (tenants).');
  leaf(
    project,
    'create <name>',
    'Create a project and print its first client credentials.',
    'admin project create',
  ).action((name: string, opts: Record<string, unknown>) => set('admin project create', { name }, opts));
  const signingKey = admin.command('signing-key').description("The server's token-signing key.");
  leaf(
    signingKey,
    'rotate',
    'Sign tokens with a new key on every instance; the replaced key verifies until what it signed expires.',
    'admin signing-key rotate',
  ).action((opts: Record<string, unknown>) => set('admin signing-key rotate', {}, opts));
  const secrets = admin.command('secrets').description('Project secrets at rest.');
  leaf(
    secrets,
    'reseal',
    'Seal every stored secret again with HOOKBOT_SECRETS_KEY (the last step of rotating it); exit 1 if some open with no key.',
    'admin secrets reseal',
  ).action((opts: Record<string, unknown>) => set('admin secrets reseal', {}, opts));
  const client = admin.command('client').description('Clients of a project.');
  leaf(
    client,
    'create <name>',
    'Register a client in a project and print its credentials: mutual TLS with --cert or --subject-dn, a member app (SMART standalone launch) with --redirect-uri.',
    'admin client create',
  )
    .requiredOption('--project <project>', 'the project, by id or name (hookbot admin project create prints both)')
    .option(
      '--role <role>',
      'admin, bot-developer, ehr, partner or member-app (the server defaults to ehr, or member-app with --redirect-uri)',
    )
    .option('--scope <scope>', "scopes within the role (default: the role's)")
    .option('--cert <file>', 'the client certificate (PEM): self_signed_tls_client_auth by its thumbprint')
    .option('--subject-dn <dn>', 'tls_client_auth: the subject DN of a certificate issued by a CA in TLS_CLIENT_CA')
    .option('--require-mtls', 'the client may authenticate only with its certificate (no secret)')
    .option(
      '--redirect-uri <uri>',
      "a member app's exact redirect URI (repeat for more)",
      (uri: string, all: string[] = []) => [...all, uri],
    )
    .option('--public', 'a public member app (browser or mobile): no secret, PKCE only')
    .action((name: string, opts: Record<string, unknown>) =>
      set(
        'admin client create',
        {
          name,
          ...pick<Omit<CommandOptions['admin client create'], 'name' | 'requireMtls' | 'public'>>(opts, [
            'project',
            'role',
            'scope',
            'cert',
            'subjectDn',
            'redirectUri',
          ]),
          ...(opts.requireMtls === true ? { requireMtls: true } : {}),
          ...(opts.public === true ? { public: true } : {}),
        },
        opts,
      ),
    );

  const bot = program.command('bot').description('Write, build, deploy and run bots.');
  leaf(bot, 'create <name>', 'Scaffold a TypeScript bot, its test and its hookbot.config.json entry.', 'bot create')
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
    'bot build',
  ).action((names: string[], opts: Record<string, unknown>) => set('bot build', { names }, opts));
  leaf(bot, 'deploy <patterns...>', 'Build, create or update, and deploy bots by name or glob.', 'bot deploy')
    .option('--force', 'change a Bot of the same name even if it answers another hook or serves a rule set')
    .option('--no-typecheck', 'deploy TypeScript without type-checking it first')
    .action((patterns: string[], opts: Record<string, unknown>) =>
      set(
        'bot deploy',
        {
          patterns,
          ...(opts.force === true ? { force: true } : {}),
          ...(opts.typecheck === false ? { typecheck: false } : {}),
        },
        opts,
      ),
    );
  leaf(bot, 'list', "List the project's bots.", 'bot list').action((opts: Record<string, unknown>) =>
    set('bot list', {}, opts),
  );
  leaf(bot, 'execute <name>', 'Run a deployed bot with an input file.', 'bot execute')
    .option('--input <file>', 'request body: JSON, or text when the file is not JSON')
    .action((name: string, opts: Record<string, unknown>) =>
      set('bot execute', { name, ...pick<{ input?: string }>(opts, ['input']) }, opts),
    );
  leaf(bot, 'logs <name>', "Show a bot's recent executions and their console output.", 'bot logs')
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
  leaf(bot, 'versions <name>', "List a bot's versions.", 'bot versions').action(
    (name: string, opts: Record<string, unknown>) => set('bot versions', { name }, opts),
  );
  leaf(bot, 'rollback <name>', 'Run the code of an earlier version again.', 'bot rollback')
    .requiredOption('--to <version>', 'the version to roll back to (see hookbot bot versions)')
    .action((name: string, opts: Record<string, unknown>) => set('bot rollback', { name, to: String(opts.to) }, opts));

  const rules = program.command('rules').description('Rule sets for analysts.');
  leaf(rules, 'validate <file>', 'Check a rule set (JSON or YAML) locally.', 'rules validate').action(
    (file: string, opts: Record<string, unknown>) => set('rules validate', { file }, opts),
  );
  leaf(rules, 'test <file>', "Run a rule set's test cases (locally, or on the server with --remote).", 'rules test')
    .option('--remote', 'run the tests on the server ($test-rules)')
    .action((file: string, opts: Record<string, unknown>) =>
      set('rules test', { file, remote: Boolean(opts.remote) }, opts),
    );
  leaf(rules, 'deploy <file>', 'Validate and deploy a rule set as a CDS service.', 'rules deploy').action(
    (file: string, opts: Record<string, unknown>) => set('rules deploy', { file }, opts),
  );

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
  withKey(leaf(hooks, 'discover', 'List the CDS services (GET /cds-services).', 'hooks discover')).action(
    (opts: Record<string, unknown>) => set('hooks discover', pick(opts, KEY_FLAGS), opts),
  );
  withKey(
    leaf(
      hooks,
      'invoke <service>',
      'Call a CDS service (its id, hook or title) as an EHR: discovery, then POST by id; cards drawn for the terminal.',
      'hooks invoke',
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
  leaf(feedback, 'stats', 'Accepted and overridden counts per service and card.', 'feedback stats').action(
    (opts: Record<string, unknown>) => set('feedback stats', {}, opts),
  );

  const pas = program.command('pas').description('Prior authorization (Da Vinci PAS).');
  leaf(
    pas,
    'submit <file>',
    'Submit a PAS request Bundle (Claim/$submit) and show the decision per item.',
    'pas submit',
  ).action((file: string, opts: Record<string, unknown>) => set('pas submit', { file }, opts));
  leaf(
    pas,
    'bind <bot>',
    "Make a bot or rule set decide the project's prior authorization requests.",
    'pas bind',
  ).action((name: string, opts: Record<string, unknown>) => set('pas bind', { name }, opts));
  return program;
}

const KEY_FLAGS = ['key', 'issuer', 'kid', 'jku', 'baseUrl'];

/**
 * The example under each command's `--help`, in the order of a session from a fresh clone (test/cli.test.ts
 * runs them in this order against a server started on the default address, in a folder holding `examples/`).
 */
export const EXAMPLES: { readonly [K in CommandName]: string } = {
  login: 'hookbot login --base-url http://localhost:8103 --client-id ID --client-secret SECRET',
  whoami: 'hookbot whoami --json',
  'admin project create': 'hookbot admin project create acme-health',
  'admin signing-key rotate': 'hookbot admin signing-key rotate',
  'admin secrets reseal': 'hookbot admin secrets reseal',
  'admin client create':
    'hookbot admin client create clearinghouse --project PROJECT_ID --role partner --cert partner.pem',
  'rules validate': 'hookbot rules validate examples/rules/crd-prior-auth.json',
  'rules test': 'hookbot rules test examples/rules/dme-sleep-study.yaml',
  'rules deploy': 'hookbot rules deploy examples/rules/crd-prior-auth.json',
  'bot create': 'hookbot bot create prior-auth --hook order-sign',
  'bot build': 'hookbot bot build prior-auth',
  'bot deploy': "hookbot bot deploy 'prior-*'",
  'bot list': 'hookbot bot list',
  'bot execute': 'hookbot bot execute prior-auth --input bots/prior-auth/request.json',
  'bot logs': 'hookbot bot logs prior-auth --follow',
  'bot versions': 'hookbot bot versions prior-auth',
  'bot rollback': 'hookbot bot rollback prior-auth --to 2',
  'hooks discover': 'hookbot hooks discover',
  'hooks invoke': 'hookbot hooks invoke prior-auth --request bots/prior-auth/request.json',
  'feedback stats': 'hookbot feedback stats',
  'pas bind': 'hookbot pas bind pas-cardiac-cath',
  'pas submit': 'hookbot pas submit examples/pas/seed-request.json',
};

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

/** "bot deploy " from argv: the longest run of words that name commands, for the hint after a usage error. */
function commandPath(program: Command, argv: string[]): string {
  const words: string[] = [];
  let command = program;
  for (const arg of argv) {
    const sub = command.commands.find((c) => c.name() === arg);
    if (!sub) break;
    words.push(arg);
    command = sub;
  }
  return words.length ? `${words.join(' ')} ` : '';
}
