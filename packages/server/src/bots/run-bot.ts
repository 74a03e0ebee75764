/**
 * Runs a bot in the sandbox and turns the runtime's typed failures into HTTP errors. Shared by `$execute`
 * (the bot's own project, the caller's scopes) and CDS invocations (the EHR's scopes), which differ only in the
 * clients handed to the bot.
 */
import type { Bot } from '@medplum/fhirtypes';
import type { HostCall, LogLine, RunResult } from '@hookbot/runtime';
import { HookbotError } from '../infra/errors.js';
import { traced } from '../infra/tracing.js';
import type { SandboxRuntime } from '@hookbot/runtime';
import type { LoadedCode } from './code.js';

export interface BotRun {
  /** Called once the run has settled (answered or failed). */
  onSettled?: () => void;
  /** The bot's project: part of the sandbox key, so two projects' bots never share an isolate. */
  projectId: string;
  bot: Bot;
  code: LoadedCode;
  event: unknown;
  host: HostCall;
  clients?: string[];
  runtime: SandboxRuntime;
}

export function formatLogs(logs: LogLine[]): string {
  return logs.map((l) => `${l.time} ${l.level} ${l.message}`).join('\n');
}

/** Bot ids are chosen by clients and unique only per project; the sandbox keys isolates by project and id. */
export function runtimeKey(projectId: string, botId: string): string {
  return `${projectId}/${botId}`;
}

export async function runBot(run: BotRun): Promise<RunResult> {
  try {
    return await runOnce(run);
  } finally {
    run.onSettled?.();
  }
}

function runOnce(run: BotRun): Promise<RunResult> {
  return traced('bot.run', { 'hookbot.bot.id': run.bot.id as string }, async (span) => {
    const result = await sandboxRun(run);
    span?.setAttribute('hookbot.bot.outcome', result.ok ? 'success' : result.kind);
    return result;
  });
}

function sandboxRun(run: BotRun): Promise<RunResult> {
  return run.runtime.run({
    code: {
      botId: runtimeKey(run.projectId, run.bot.id as string),
      version: run.code.version,
      code: run.code.code,
      ...(run.code.filename ? { filename: run.code.filename } : {}),
    },
    event: run.event,
    host: run.host,
    // The project shares the sandbox with the others: its runs and isolates are limited per project.
    owner: run.projectId,
    ...(run.clients ? { clients: run.clients } : {}),
    ...(run.code.trusted ? { reuseContext: true } : {}),
  });
}

/**
 * The HTTP error for a failed run; the bot's message is the bot author's, never a host stack trace. A bot that
 * throws, runs out of memory or answers junk is the payer's service failing, not the caller's request being wrong:
 * 500 (504 for a timeout), in CDS calls and `$execute` alike. Requests the caller got wrong are refused before the
 * bot runs, with 400.
 */
export function runFailureError(result: Extract<RunResult, { ok: false }>): HookbotError {
  const message = result.message.slice(0, 1000);
  const fault = "the payer's bot failed, not the request";
  switch (result.kind) {
    case 'timeout':
      return new HookbotError('bot.timeout', `Bot timed out (${fault}): ${message}`);
    case 'memory':
      return new HookbotError('bot.memory-exceeded', `Bot exceeded its memory limit (${fault}): ${message}`);
    case 'output-too-large':
      return new HookbotError('bot.result-too-large', `Bot result too large (${fault}): ${message}`);
    case 'bad-output':
      return new HookbotError('bot.invalid-result', `Bot returned an invalid result (${fault}): ${message}`);
    case 'compile':
      return new HookbotError('bot.stored-code-does-not-compile', `Bot code does not compile (${fault}): ${message}`);
    case 'thrown':
      return new HookbotError('bot.failed', `Bot failed (${fault}): ${message}`);
    case 'overloaded':
      return new HookbotError('bot.runtime-busy', 'Bot runtime is busy; retry shortly', {
        headers: { 'Retry-After': '1' },
      });
    default:
      return new HookbotError('bot.runtime-failure', 'Bot runtime failure');
  }
}
