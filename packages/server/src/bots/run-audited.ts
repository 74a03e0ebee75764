/**
 * Run a bot on an input, build its event, audit the run: the one path shared by every operation that runs a bot
 * (`$execute`, CDS invocations, prior authorization). The event is the Medplum-style one every bot receives (`bot`, `input`,
 * `contentType`, `secrets`, `traceId`, `requester`); the AuditEvent carries the outcome the caller judged, since
 * a bot that answered may still have answered something the operation cannot use.
 */
import type { Bot, Practitioner, Reference } from '@medplum/fhirtypes';
import type { HostCall, RunResult } from '@hookbot/runtime';
import type { Services } from '../services.js';
import type { LoadedCode } from './code.js';
import { formatLogs, runBot } from './run-bot.js';

/** The project's secrets as bots see them (`event.secrets`). */
async function secretsFor(
  services: Services,
  projectId: string,
): Promise<Record<string, { name: string; valueString: string }>> {
  const { secrets } = await services.settings.get(projectId);
  return Object.fromEntries(secrets.map((s) => [s.name, { name: s.name, valueString: s.value }]));
}

export interface AuditedRun {
  services: Services;
  projectId: string;
  bot: Bot;
  code: LoadedCode;
  input: unknown;
  contentType?: string;
  host: HostCall;
  /** Client names the sandbox exposes (default `medplum`). */
  clients?: string[];
  /** The client on whose behalf the bot runs. */
  clientId: string;
  /** The console user on whose behalf it runs, if any (the AuditEvent's `agent.who`). */
  agent?: Reference<Practitioner>;
  requestIds?: { requestId: string; traceId: string };
  onSettled?: () => void;
  /** AuditEvent subtype (e.g. `pas-submit`) and details. */
  subtype: string;
  details?: Record<string, string | undefined>;
  /** When the audited work began (`performance.now()`), if before the run (a CDS call's prefetch); default: now. */
  started?: number;
}

export interface Judgement {
  outcome: 'success' | 'failure' | 'error';
  description?: string;
}

/** A failed run is `failure` when the bot threw, `error` for the platform's limits (timeout, memory, output). */
export function judgeRun(result: RunResult): Judgement {
  if (result.ok) return { outcome: 'success' };
  return { outcome: result.kind === 'thrown' ? 'failure' : 'error', description: `${result.kind}: ${result.message}` };
}

/**
 * Runs the bot and audits the run; `judge` turns the result into the audited outcome (`judgeRun` for a failed run)
 * and may return a value for the caller (for example the checked answer).
 */
export async function runAudited<T>(
  run: AuditedRun,
  judge: (result: RunResult) => Judgement & { value: T },
): Promise<{ result: RunResult; value: T; logs: string }> {
  const { services } = run;
  const started = run.started ?? performance.now();
  const event = {
    bot: { reference: `Bot/${run.bot.id}` },
    input: run.input,
    contentType: run.contentType ?? 'application/json',
    secrets: await secretsFor(services, run.projectId),
    traceId: run.requestIds?.traceId,
    requester: { reference: `ClientApplication/${run.clientId}` },
  };
  const result = await runBot({
    projectId: run.projectId,
    bot: run.bot,
    code: run.code,
    event,
    host: run.host,
    runtime: services.runtime,
    ...(run.clients ? { clients: run.clients } : {}),
    ...(run.onSettled ? { onSettled: run.onSettled } : {}),
  });
  const judged = judge(result);
  // A bot that answered what the operation cannot use is its own kind: the platform's failures are `result.kind`.
  services.metrics.countBotRun(
    result.ok ? (judged.outcome === 'success' ? 'success' : 'invalid-response') : result.kind,
    run.subtype,
  );
  const logs = formatLogs(result.logs);
  await services.audit.add({
    projectId: run.projectId,
    subtype: run.subtype,
    botId: run.bot.id as string,
    botVersion: run.bot.meta?.versionId,
    clientId: run.clientId,
    ...(run.agent ? { agent: run.agent } : {}),
    outcome: judged.outcome,
    ...(judged.description ? { outcomeDesc: judged.description } : {}),
    durationMs: performance.now() - started,
    details: { codeVersion: run.code.version, requestId: run.requestIds?.requestId, ...run.details },
    logs,
  });
  return { result, value: judged.value, logs };
}
