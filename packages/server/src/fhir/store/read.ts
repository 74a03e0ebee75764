/** read, vread and history: always confined to the caller's project, so another tenant's id reads as missing. */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { HookbotError, notFound } from '../../infra/errors.js';
import { inMemberView } from '../compartment.js';
import { isAppendOnly } from '../resource-types.js';
import { authorize, confineSql, type StoreContext } from './context.js';

export interface VersionRow<T> {
  version_id: number;
  last_updated: Date | string;
  deleted: boolean;
  content: T | null;
}

/**
 * The stored versions of one resource, newest first, or only `versionId`, in one statement. An append-only type's one
 * version is its current row; events written before the type became append-only also have history rows, which win.
 * A member sees the versions of a resource of their compartment as it is now, and of those only the ones that
 * were in it then: an EOB moved from another member keeps that member's version to itself.
 */
async function versionRows<T extends Resource>(
  ctx: StoreContext,
  resourceType: string,
  id: string,
  versionId?: number,
): Promise<VersionRow<T>[]> {
  const params: unknown[] = [ctx.access.projectId, resourceType, id];
  const where = `WHERE r.project_id = $1 AND r.resource_type = $2 AND r.id = $3${
    versionId === undefined ? '' : ` AND r.version_id = $${params.push(versionId)}`
  }${confineSql(ctx, [resourceType], params)}`;
  const columns = 'version_id, last_updated, deleted, content';
  const sql = isAppendOnly(resourceType)
    ? `SELECT DISTINCT ON (version_id) ${columns} FROM (
         SELECT ${columns}, 0 AS rank FROM fhir_history r ${where}
         UNION ALL SELECT ${columns}, 1 FROM fhir_resources r ${where}
       ) v ORDER BY version_id DESC, rank`
    : `SELECT ${columns} FROM fhir_history r ${where} ORDER BY version_id DESC`;
  const { rows } = await ctx.db.query<VersionRow<T>>(sql, params);
  const patient = ctx.access.patient;
  return patient === undefined ? rows : rows.filter((row) => !row.content || inMemberView(row.content, patient));
}

const gone = (what: string): HookbotError => new HookbotError('fhir.deleted', `${what} has been deleted`);

export async function readResource<T extends Resource>(
  ctx: StoreContext,
  resourceType: string,
  id: string,
): Promise<T> {
  authorize(ctx, resourceType, 'r');
  const params: unknown[] = [ctx.access.projectId, resourceType, id];
  const { rows } = await ctx.db.query<{ deleted: boolean; content: T | null }>(
    `SELECT deleted, content FROM fhir_resources r WHERE project_id = $1 AND resource_type = $2 AND id = $3${confineSql(
      ctx,
      [resourceType],
      params,
    )}`,
    params,
  );
  const row = rows[0];
  if (!row) {
    throw notFound('fhir.not-found', `${resourceType}/${id} not found`);
  }
  if (row.deleted || !row.content) {
    throw gone(`${resourceType}/${id}`);
  }
  return row.content;
}

export async function vreadResource<T extends Resource>(
  ctx: StoreContext,
  resourceType: string,
  id: string,
  versionId: string,
): Promise<T> {
  authorize(ctx, resourceType, 'r');
  if (!/^\d{1,9}$/.test(versionId)) {
    throw notFound('fhir.not-found', `${resourceType}/${id}/_history/${versionId} not found`);
  }
  const row = (await versionRows<T>(ctx, resourceType, id, Number(versionId)))[0];
  if (!row) {
    throw notFound('fhir.not-found', `${resourceType}/${id}/_history/${versionId} not found`);
  }
  if (row.deleted || !row.content) {
    throw gone(`${resourceType}/${id}/_history/${versionId}`);
  }
  return row.content;
}

/** Every version of one resource, newest first, deletions included (FHIR R4 http §3.1.0.9 "history"). */
export async function resourceHistory(ctx: StoreContext, resourceType: string, id: string): Promise<Bundle> {
  authorize(ctx, resourceType, 'r');
  const rows = await versionRows<Resource>(ctx, resourceType, id);
  if (rows.length === 0) {
    throw notFound('fhir.not-found', `${resourceType}/${id} not found`);
  }
  const entry = rows.map((row) => historyEntry(ctx, resourceType, id, row));
  return { resourceType: 'Bundle', type: 'history', total: entry.length, entry };
}

/** One version as a history Bundle entry: the request that wrote it (POST, PUT or DELETE) and its response. */
export function historyEntry(
  ctx: StoreContext,
  resourceType: string,
  id: string,
  row: VersionRow<Resource>,
): BundleEntry {
  const fullUrl = `${ctx.fhirBase}/${resourceType}/${id}`;
  const version = Number(row.version_id);
  const lastModified = new Date(row.last_updated).toISOString();
  if (row.deleted || !row.content) {
    return {
      fullUrl,
      request: { method: 'DELETE', url: `${resourceType}/${id}` },
      response: { status: '204 No Content', etag: `W/"${version}"`, lastModified },
    };
  }
  return {
    fullUrl,
    resource: row.content,
    request: version === 1 ? { method: 'POST', url: resourceType } : { method: 'PUT', url: `${resourceType}/${id}` },
    response: { status: version === 1 ? '201 Created' : '200 OK', etag: `W/"${version}"`, lastModified },
  };
}
