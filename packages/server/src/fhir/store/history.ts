/**
 * History at type level (`GET [type]/_history`) and system level (`GET _history`), FHIR R4 http §3.1.0.9: every
 * version of the project's resources of those types, newest first, deletions included, with `_since`, `_count` and
 * offset paging. Each type is read from `fhir_history_updated_idx` (migration 016) newest first and only as far as the
 * page needs, and the types are merged: a page costs the same however large the project's history is (deep offsets
 * aside). An append-only type (AuditEvent) has no history rows: its current rows are its versions (`read.ts`).
 * A member sees the versions of the resources in their compartment now, and of those only the ones that were in it
 * when written, as on an instance's history.
 */
import type { Bundle, BundleLink, Resource } from '@medplum/fhirtypes';
import { inMemberView, isMemberType } from '../compartment.js';
import { isAppendOnly, RESOURCE_TYPES } from '../resource-types.js';
import { authorize, confineSql, type StoreContext } from './context.js';
import { historyEntry, type VersionRow } from './read.js';

export interface HistoryQuery {
  /** Only versions written at or after this instant (ISO 8601). */
  since?: string;
  count: number;
  offset: number;
  total: boolean;
  /** The query as received minus paging, for the links. */
  entries: [string, string][];
}

interface HistoryRow extends VersionRow<Resource> {
  resource_type: string;
  id: string;
}

/** The history of `resourceType`, or of every type the caller may read when it is undefined. */
export async function typeHistory(
  ctx: StoreContext,
  resourceType: string | undefined,
  query: HistoryQuery,
): Promise<Bundle> {
  if (resourceType !== undefined) authorize(ctx, resourceType, 'r');
  const types = (resourceType === undefined ? [...RESOURCE_TYPES] : [resourceType]).filter(
    (t) => ctx.access.allows(t, 'r') && (ctx.access.patient === undefined || isMemberType(t)),
  );
  const path = resourceType === undefined ? '_history' : `${resourceType}/_history`;
  if (types.length === 0) return bundle(ctx, path, query, [], false, query.total ? 0 : undefined);
  const params: unknown[] = [ctx.access.projectId];
  const since = query.since === undefined ? '' : ` AND r.last_updated >= $${params.push(query.since)}::timestamptz`;
  const union = (limit: string) =>
    types
      .flatMap((type) => versionsOf(ctx, type, since, params, limit))
      .map((sql) => `(${sql})`)
      .join(' UNION ALL ');
  const columns = 'resource_type, id, version_id, last_updated, deleted, content';
  const order = 'last_updated DESC, resource_type, id DESC, version_id DESC';
  const reach = `$${params.push(query.offset + query.count + 1)}`;
  const page = ctx.db.query<HistoryRow>(
    `SELECT ${columns} FROM (${union(`ORDER BY ${order} LIMIT ${reach}`)}) v
     ORDER BY ${order} LIMIT $${params.push(query.count + 1)} OFFSET $${params.push(query.offset)}`,
    params,
  );
  const { rows } = await page;
  const total = query.total ? await countVersions(ctx, types, query) : undefined;
  const patient = ctx.access.patient;
  const visible = (row: HistoryRow) => patient === undefined || !row.content || inMemberView(row.content, patient);
  const entries = rows.slice(0, query.count).filter(visible);
  return bundle(ctx, path, query, entries, rows.length > query.count, total);
}

/**
 * The statements reading one type's versions (`limit` their ORDER BY and LIMIT): its history rows, and for an
 * append-only type its current rows that have none.
 */
function versionsOf(ctx: StoreContext, type: string, since: string, params: unknown[], limit: string): string[] {
  const columns = 'r.resource_type, r.id, r.version_id, r.last_updated, r.deleted, r.content';
  const where = (table: string) =>
    `FROM ${table} r WHERE r.project_id = $1 AND r.resource_type = $${params.push(type)}${since}${confineSql(
      ctx,
      [type],
      params,
    )}`;
  const history = `SELECT ${columns} ${where('fhir_history')} ${limit}`;
  if (!isAppendOnly(type)) return [history];
  const current = `SELECT ${columns} ${where('fhir_resources')} AND NOT EXISTS (SELECT 1 FROM fhir_history h
     WHERE h.project_id = r.project_id AND h.resource_type = r.resource_type AND h.id = r.id) ${limit}`;
  return [history, current];
}

/** `_total`: the versions counted with the same predicates (a member's later filter aside), exact, not estimated. */
async function countVersions(ctx: StoreContext, types: string[], query: HistoryQuery): Promise<number> {
  const params: unknown[] = [ctx.access.projectId];
  const since = query.since === undefined ? '' : ` AND r.last_updated >= $${params.push(query.since)}::timestamptz`;
  const union = types.flatMap((type) => versionsOf(ctx, type, since, params, '')).join(' UNION ALL ');
  const { rows } = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${union}) v`, params);
  return Number(rows[0]?.n ?? 0);
}

function bundle(
  ctx: StoreContext,
  path: string,
  query: HistoryQuery,
  rows: HistoryRow[],
  hasNext: boolean,
  total: number | undefined,
): Bundle {
  const link = (relation: string, offset: number): BundleLink => {
    const params = new URLSearchParams(query.entries);
    params.set('_count', String(query.count));
    if (offset > 0) params.set('_offset', String(offset));
    return { relation, url: `${ctx.fhirBase}/${path}?${params.toString()}` };
  };
  const links = [link('self', query.offset)];
  if (hasNext) links.push(link('next', query.offset + query.count));
  if (query.offset > 0) links.push(link('previous', Math.max(0, query.offset - query.count)));
  return {
    resourceType: 'Bundle',
    type: 'history',
    ...(total === undefined ? {} : { total }),
    link: links,
    entry: rows.map((row) => historyEntry(ctx, row.resource_type, row.id, row)),
  };
}
