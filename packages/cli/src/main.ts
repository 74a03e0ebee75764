/**
 * The entry point (bin/hookbot.js imports it): parse, run one command, and turn the outcome into an exit code.
 * The only place that calls process.exit.
 */
import { parseArgv } from './cli.js';
import { COMMANDS } from './commands/index.js';
import type { CommandContext } from './context.js';
import { CliError } from './errors.js';
import { createOutput, createStyle, wantsColor, type Output, type Writer } from './output.js';

export interface RunOptions {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: Writer;
  stderr: Writer;
  interrupted?: Promise<void>;
  fetch?: typeof fetch;
}

/** Runs one command line and returns the exit code (see EXIT_CODES in errors.ts). */
export async function run(options: RunOptions): Promise<number> {
  const { stdout, stderr, env } = options;
  let out: Output | undefined;
  try {
    const parsed = parseArgv(options.argv, {
      writeOut: (text) => stdout.write(text),
      writeErr: (text) => stderr.write(text),
    });
    if ('exitCode' in parsed) return parsed.exitCode;
    const { invocation } = parsed;
    out = createOutput({
      stdout,
      stderr,
      json: invocation.global.json,
      color: wantsColor(env, stdout, invocation.global.color),
      interactive: Boolean(stderr.isTTY),
    });
    const ctx: CommandContext = {
      cwd: options.cwd,
      env,
      out,
      ...(invocation.global.profile ? { profile: invocation.global.profile } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.interrupted ? { interrupted: options.interrupted } : {}),
    };
    const command = (await COMMANDS[invocation.command]()) as (
      input: CommandContext & typeof invocation.options,
    ) => Promise<void>;
    await command({ ...ctx, ...invocation.options });
    return 0;
  } catch (error) {
    return reportError(error, out, stdout, stderr, env);
  }
}

function reportError(error: unknown, out: Output | undefined, stdout: Writer, stderr: Writer, env: NodeJS.ProcessEnv) {
  const cliError =
    error instanceof CliError
      ? error
      : new CliError('failed', `Unexpected error: ${(error as Error)?.message ?? String(error)}`, {
          lines: env.HOOKBOT_DEBUG ? [(error as Error)?.stack ?? ''] : [],
        });
  const { details } = cliError;
  if (out?.json) {
    stdout.write(
      `${JSON.stringify(
        {
          error: {
            code: cliError.code,
            message: cliError.message,
            ...(details.status ? { status: details.status } : {}),
            ...(details.requestId ? { requestId: details.requestId } : {}),
            ...(details.lines?.length ? { diagnostics: details.lines } : {}),
            ...(details.data !== undefined ? { data: details.data } : {}),
          },
        },
        null,
        2,
      )}\n`,
    );
  }
  const style = out?.style ?? createStyle(wantsColor(env, stderr, undefined));
  const lines = [`${style.red('error')} ${cliError.message}`, ...(details.lines ?? []).map((line) => `  ${line}`)];
  if (details.requestId) lines.push(style.dim(`  request id: ${details.requestId}`));
  stderr.write(`${lines.join('\n')}\n`);
  return cliError.exitCode;
}

export async function main(): Promise<void> {
  let interrupt: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  let interrupts = 0;
  const onSignal = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    interrupt();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await run({
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    interrupted,
  });
  process.exit(code);
}
