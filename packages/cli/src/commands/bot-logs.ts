/**
 * `hookbot bot logs NAME [--follow]`: the bot's executions from its AuditEvents
 * (`GET /fhir/R4/AuditEvent?entity=Bot/{id}&_tag=…record-origin|server&_sort=-_lastUpdated`), oldest first by the
 * time the server recorded them; `--follow` polls for new ones until interrupted. Only events the server recorded: an
 * AuditEvent a client wrote about the bot is not one of its runs.
 */
import type { HookbotApi } from '../api.js';
import { connect, type CommandContext } from '../context.js';
import type { Output } from '../output.js';
import { requireBot, resourcesOf, type Bundle } from './bots-api.js';

export interface BotLogsOptions {
  name: string;
  follow: boolean;
  count: number;
  /** Seconds between polls with --follow. */
  interval: number;
}

export interface AuditEventLike {
  id?: string;
  recorded?: string;
  outcome?: string;
  outcomeDesc?: string;
  meta?: { lastUpdated?: string };
  type?: { code?: string };
  entity?: { what?: { reference?: string }; detail?: { type?: string; valueString?: string }[] }[];
}

export interface LogEntry {
  id?: string;
  recorded?: string;
  ok: boolean;
  outcome?: string;
  message?: string;
  /** What was audited (`execute`, a CDS call…), from AuditEvent.type. */
  kind?: string;
  /** The other entity details (version, durationMs, requestId…). */
  details: Record<string, string>;
  logs: string[];
}

export async function botLogs(input: CommandContext & BotLogsOptions): Promise<void> {
  const api = await connect(input);
  const bot = await requireBot(api, input.name);
  const seen = new Set<string>();
  const first = await fetchEntries(api, bot.id, input.count, input.out);
  printEntries(input.out, first, seen, input.follow);
  if (!input.follow) return;
  input.out.note(input.out.style.dim(`Following ${input.name}; Ctrl-C to stop.`));
  let stopped = false;
  void input.interrupted?.then(() => {
    stopped = true;
  });
  while (!stopped) {
    await Promise.race([sleep(input.interval * 1000), input.interrupted]);
    if (stopped) break;
    printEntries(input.out, await fetchEntries(api, bot.id, input.count, input.out), seen, true);
  }
}

/** The server's tag on the events it records (the server's `fhir/record-origin.ts`); clients cannot write it. */
export const SERVER_RECORDED_TAG = 'https://hookbot.dev/fhir/CodeSystem/record-origin|server';

export function logsQuery(botId: string, count: number): Record<string, string | number> {
  return { entity: `Bot/${botId}`, _tag: SERVER_RECORDED_TAG, _sort: '-_lastUpdated', _count: count };
}

async function fetchEntries(api: HookbotApi, botId: string, count: number, out: Output): Promise<LogEntry[]> {
  const { body } = await out.step('Reading logs', () =>
    api.request<Bundle<AuditEventLike>>('GET', '/fhir/R4/AuditEvent', {
      query: logsQuery(botId, count),
    }),
  );
  return inArrivalOrder(resourcesOf(body).map(toLogEntry).reverse());
}

/**
 * Oldest first by `recorded`, which the server sets when it runs a bot or receives feedback; audit rows are
 * written in batches, so their `_lastUpdated` order can differ from it.
 */
export function inArrivalOrder(entries: LogEntry[]): LogEntry[] {
  const time = (e: LogEntry) => (e.recorded ? Date.parse(e.recorded) : 0);
  return [...entries].sort((a, b) => time(a) - time(b));
}

/** FHIR AuditEvent.outcome: 0 success, 4 minor failure, 8 serious failure, 12 major failure. */
export function toLogEntry(event: AuditEventLike): LogEntry {
  const logs: string[] = [];
  const details: Record<string, string> = {};
  for (const entity of event.entity ?? []) {
    for (const detail of entity.detail ?? []) {
      if (typeof detail.valueString !== 'string') continue;
      const text = detail.valueString.replace(/\n$/, '');
      if (detail.type && detail.type !== 'log' && detail.type !== 'logs') details[detail.type] = text;
      else logs.push(...text.split('\n'));
    }
  }
  const recorded = event.recorded ?? event.meta?.lastUpdated;
  return {
    ...(event.id ? { id: event.id } : {}),
    ...(recorded ? { recorded } : {}),
    ok: event.outcome === undefined || event.outcome === '0',
    ...(event.outcome ? { outcome: event.outcome } : {}),
    ...(event.outcomeDesc ? { message: event.outcomeDesc } : {}),
    ...(event.type?.code ? { kind: event.type.code } : {}),
    details,
    logs,
  };
}

export function renderLogEntry(entry: LogEntry, style: Output['style']): string {
  const status = entry.ok ? style.green('ok    ') : style.red('failed');
  const { version, durationMs } = entry.details;
  const facts = [entry.kind, version ? `v${version}` : undefined, durationMs ? `${durationMs} ms` : undefined];
  const head = [style.dim(entry.recorded ?? '-'), status, ...facts, entry.message].filter(Boolean).join('  ');
  return [head, ...entry.logs.map((line) => `    ${line}`)].join('\n');
}

/** In JSON mode with --follow, one JSON object per line (NDJSON) so a script can read them as they come. */
function printEntries(out: Output, entries: LogEntry[], seen: Set<string>, streaming: boolean): void {
  const fresh = entries.filter((e) => !e.id || !seen.has(e.id));
  for (const e of fresh) if (e.id) seen.add(e.id);
  if (out.json && !streaming) {
    out.result(fresh, () => '');
    return;
  }
  for (const entry of fresh) out.line(out.json ? JSON.stringify(entry) : renderLogEntry(entry, out.style));
  if (!streaming && fresh.length === 0) out.note('No executions logged yet.');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
