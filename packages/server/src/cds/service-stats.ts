/**
 * What analysts watch, at `GET /cds-invocations/stats?days=N` and
 * `GET /cds-feedback/timeline?days=N`: every Bot of the project (coded or rule set, CDS service or adjudication bot)
 * with its last deploy and who made it, and over the last N days (1–90, default 7) its calls, failures by kind,
 * p50/p99 latency, calls and failures per day, and the latest failed calls with their request ids; and the feedback
 * per service and day (accepted, overridden, override reasons). Read from the AuditEvents the server wrote (record
 * origin tag): a client's own AuditEvent never counts. Each answer is one SQL statement per part, aggregated in the
 * database, so the cost does not grow with what is sent back.
 */
import type { Bot, Extension, Meta } from '@medplum/fhirtypes';
import { AUDIT_TYPE_SYSTEM } from '../bots/audit.js';
import { RULES_CONTENT_TYPE } from '../bots/code.js';
import { SERVER_RECORDED_TAG } from '../fhir/record-origin.js';
import { badRequest } from '../infra/errors.js';
import type { Services } from '../services.js';
import { FEEDBACK_SUBTYPE } from './feedback.js';

const CDS_SUBTYPE = 'cds-hooks';
const RULE_SET_SYSTEM = 'https://hookbot.dev/fhir/rule-set';

/** What a failed call was, from the outcome text the audit wrote (`kind: message`, see bots/run-audited.ts). */
export const FAILURE_KINDS = ['timeout', 'memory', 'thrown', 'invalid-response', 'other'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface ServiceStatistics {
  id: string;
  name?: string;
  kind: 'rule-set' | 'coded';
  /** The CDS hook, or `prior-authorization` for a rule set that adjudicates PAS requests; absent for other bots. */
  hook?: string;
  ruleSetId?: string;
  version: string;
  lastDeploy: { at?: string; by?: string };
  calls: number;
  failures: Record<FailureKind, number>;
  p50Ms: number | null;
  p99Ms: number | null;
  daily: { day: string; calls: number; failures: number }[];
  latestFailures: { at: string; requestId?: string; kind: FailureKind; message?: string }[];
}

export interface InvocationStatistics {
  since: string;
  until: string;
  services: ServiceStatistics[];
}

/** `days` from the query: 1 to 90, 7 when absent. */
export function periodDays(value: unknown): number {
  if (value === undefined) return 7;
  const days = typeof value === 'string' && /^\d{1,2}$/.test(value) ? Number(value) : NaN;
  if (!(days >= 1 && days <= 90))
    throw badRequest('request.invalid', '"days" must be a whole number from 1 to 90', 'days');
  return days;
}

const detail = (type: string) =>
  `(SELECT d->>'valueString' FROM jsonb_array_elements(r.content->'entity'->0->'detail') d WHERE d->>'type' = '${type}' LIMIT 1)`;

/** The server-recorded AuditEvents of one subtype in the period, with the Bot they name. */
const EVENTS = `
  SELECT r.last_updated AS at, r.content AS content,
         regexp_replace(r.content->'entity'->0->'what'->>'reference', '^Bot/', '') AS bot_id
  FROM fhir_resources r
  WHERE r.project_id = $1 AND r.resource_type = 'AuditEvent' AND NOT r.deleted AND r.last_updated >= $2
    AND r.id IN (
      SELECT resource_id FROM fhir_index
      WHERE project_id = $1 AND resource_type = 'AuditEvent' AND code = 'subtype' AND system = $3 AND value = $4
    )
    AND r.content->'meta'->'tag' @> $5::jsonb`;

const KIND = `CASE
  WHEN content->>'outcome' = '0' THEN NULL
  WHEN content->>'outcomeDesc' LIKE 'timeout:%' THEN 'timeout'
  WHEN content->>'outcomeDesc' LIKE 'memory:%' THEN 'memory'
  WHEN content->>'outcomeDesc' LIKE 'thrown:%' THEN 'thrown'
  WHEN content->>'outcomeDesc' LIKE 'invalid response:%' THEN 'invalid-response'
  ELSE 'other' END`;

const CALLS_SQL = `
  SELECT bot_id, count(*)::int AS n,
         count(*) FILTER (WHERE kind = 'timeout')::int AS timeout,
         count(*) FILTER (WHERE kind = 'memory')::int AS memory,
         count(*) FILTER (WHERE kind = 'thrown')::int AS thrown,
         count(*) FILTER (WHERE kind = 'invalid-response')::int AS invalid_response,
         count(*) FILTER (WHERE kind = 'other')::int AS other,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
         percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
  FROM (SELECT bot_id, ${KIND} AS kind, ${detail('durationMs')}::float8 AS ms FROM (${EVENTS}) r) e
  GROUP BY bot_id`;

const DAILY_SQL = `
  SELECT bot_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS calls,
         count(*) FILTER (WHERE content->>'outcome' <> '0')::int AS failures
  FROM (${EVENTS}) r GROUP BY 1, 2 ORDER BY 1, 2`;

const FAILURES_SQL = `
  SELECT bot_id, at, ${KIND} AS kind, content->>'outcomeDesc' AS message, ${detail('requestId')} AS request_id
  FROM (${EVENTS}) r WHERE content->>'outcome' <> '0'
  ORDER BY at DESC LIMIT 200`;

const BOTS_SQL = `
  SELECT id, content FROM fhir_resources
  WHERE project_id = $1 AND resource_type = 'Bot' AND NOT deleted ORDER BY id`;

const LATEST_FAILURES = 10;

/** Who made a version: the author extension a signed-in user's write records, else `meta.source`. */
export function authorOf(meta: Meta | undefined): string | undefined {
  const ext = (meta?.extension ?? []).find((e: Extension) => /author$/i.test(e.url));
  return ext?.valueReference?.display ?? ext?.valueString ?? meta?.source;
}

export async function invocationStatistics(
  services: Services,
  projectId: string,
  days: number,
  now = new Date(),
): Promise<InvocationStatistics> {
  const since = new Date(now.getTime() - days * 86_400_000);
  const params = [projectId, since.toISOString(), AUDIT_TYPE_SYSTEM, CDS_SUBTYPE, recordedTag()];
  const [bots, calls, daily, failures] = await Promise.all([
    services.db.query<{ id: string; content: Bot }>(BOTS_SQL, [projectId]),
    services.db.query<CallsRow>(CALLS_SQL, params),
    services.db.query<{ bot_id: string; day: string; calls: number; failures: number }>(DAILY_SQL, params),
    services.db.query<{
      bot_id: string;
      at: Date | string;
      kind: FailureKind;
      message: string | null;
      request_id: string | null;
    }>(FAILURES_SQL, params),
  ]);
  const result = new Map<string, ServiceStatistics>();
  for (const { id, content: bot } of bots.rows) {
    const ruleSet = bot.executableCode?.contentType === RULES_CONTENT_TYPE;
    const hook = (bot as Bot & { cdsService?: { hook?: string } }).cdsService?.hook;
    const ruleSetId = bot.identifier?.find((i) => i.system === RULE_SET_SYSTEM)?.value;
    result.set(id, {
      id,
      ...(bot.name ? { name: bot.name } : {}),
      kind: ruleSet ? 'rule-set' : 'coded',
      ...(hook ? { hook } : ruleSet ? { hook: 'prior-authorization' } : {}),
      ...(ruleSetId ? { ruleSetId } : {}),
      version: bot.meta?.versionId ?? '1',
      lastDeploy: { at: bot.meta?.lastUpdated, by: authorOf(bot.meta) },
      calls: 0,
      failures: { timeout: 0, memory: 0, thrown: 0, 'invalid-response': 0, other: 0 },
      p50Ms: null,
      p99Ms: null,
      daily: [],
      latestFailures: [],
    });
  }
  for (const row of calls.rows) {
    const stats = result.get(row.bot_id);
    if (!stats) continue;
    stats.calls = Number(row.n);
    stats.failures = {
      timeout: Number(row.timeout),
      memory: Number(row.memory),
      thrown: Number(row.thrown),
      'invalid-response': Number(row.invalid_response),
      other: Number(row.other),
    };
    stats.p50Ms = row.p50 === null ? null : round(row.p50);
    stats.p99Ms = row.p99 === null ? null : round(row.p99);
  }
  for (const row of daily.rows) {
    result.get(row.bot_id)?.daily.push({ day: row.day, calls: Number(row.calls), failures: Number(row.failures) });
  }
  for (const row of failures.rows) {
    const stats = result.get(row.bot_id);
    if (!stats || stats.latestFailures.length >= LATEST_FAILURES) continue;
    stats.latestFailures.push({
      at: new Date(row.at).toISOString(),
      ...(row.request_id ? { requestId: row.request_id } : {}),
      kind: row.kind,
      ...(row.message ? { message: row.message.slice(0, 300) } : {}),
    });
  }
  return { since: since.toISOString(), until: now.toISOString(), services: [...result.values()] };
}

interface CallsRow {
  bot_id: string;
  n: number;
  timeout: number;
  memory: number;
  thrown: number;
  invalid_response: number;
  other: number;
  p50: number | null;
  p99: number | null;
}

function round(ms: number): number {
  return Math.round(Number(ms) * 10) / 10;
}

function recordedTag(): string {
  return JSON.stringify([{ system: SERVER_RECORDED_TAG.system, code: SERVER_RECORDED_TAG.code }]);
}

export interface FeedbackDay {
  serviceId: string;
  day: string;
  accepted: number;
  overridden: number;
  /** Override reasons by their display (else `system|code`), with counts. */
  reasons: Record<string, number>;
}

const FEEDBACK_SQL = `
  SELECT bot_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
         ${detail('outcome')} AS outcome,
         coalesce(${detail('overrideReasonDisplay')}, ${detail('overrideReason')}) AS reason, count(*)::int AS n
  FROM (${EVENTS}) r GROUP BY 1, 2, 3, 4 ORDER BY 1, 2`;

export async function feedbackTimeline(
  services: Services,
  projectId: string,
  days: number,
  now = new Date(),
): Promise<{ since: string; until: string; days: FeedbackDay[] }> {
  const since = new Date(now.getTime() - days * 86_400_000);
  const { rows } = await services.db.query<{
    bot_id: string;
    day: string;
    outcome: string | null;
    reason: string | null;
    n: number;
  }>(FEEDBACK_SQL, [projectId, since.toISOString(), AUDIT_TYPE_SYSTEM, FEEDBACK_SUBTYPE, recordedTag()]);
  const byKey = new Map<string, FeedbackDay>();
  for (const row of rows) {
    if (!row.bot_id) continue;
    const key = `${row.bot_id} ${row.day}`;
    const day = byKey.get(key) ?? { serviceId: row.bot_id, day: row.day, accepted: 0, overridden: 0, reasons: {} };
    byKey.set(key, day);
    const n = Number(row.n);
    if (row.outcome === 'accepted') day.accepted += n;
    else {
      day.overridden += n;
      if (row.reason) day.reasons[row.reason] = (day.reasons[row.reason] ?? 0) + n;
    }
  }
  return { since: since.toISOString(), until: now.toISOString(), days: [...byKey.values()] };
}
