/**
 * create, update and delete: each one transaction writing the current version, the history row and the search
 * index, so a failure leaves nothing behind. Append-only types (AuditEvent) have no history row: their current row
 * is their only version, and read.ts serves it as such.
 */
import type { Resource } from '@medplum/fhirtypes';
import { conflict, HookbotError, notFound, preconditionFailed } from '../../infra/errors.js';
import { isUniqueViolation, type Database } from '../../infra/database.js';
import { withAuthor } from '../author.js';
import { markServerRecorded, refuseRecordOriginClaim } from '../record-origin.js';
import { isAppendOnly } from '../resource-types.js';
import { extractIndexRows } from '../search/extract.js';
import { validateForWrite } from '../validation.js';
import { authorize, type StoreContext } from './context.js';
import { newResourceId } from './new-id.js';
import { noteWrite } from './statistics.js';

export interface UpdateOptions {
  /** `W/"3"` or `3`: the update fails with 412 unless the current version is this one. */
  ifMatch?: string;
}

export async function createResource<T extends Resource>(ctx: StoreContext, input: T): Promise<T> {
  const type = typeof input?.resourceType === 'string' ? input.resourceType : '';
  if (type) {
    authorize(ctx, type, 'c');
  }
  const validated = validateForWrite(input);
  refuseRecordOriginClaim(validated);
  const resource = stamp(ctx, validated, newResourceId(), 1);
  await uniqueAsConflict(
    ctx.db.transaction(async (tx) => {
      await insertCurrent(tx, ctx.access.projectId, resource);
      await writeVersion(tx, ctx.access.projectId, resource, true);
    }),
  );
  noteWrite(ctx.db);
  return resource as T;
}

export interface CreateManyOptions {
  /** Skips the structure check of resources the server built from typed code (audit). */
  serverBuilt?: boolean;
  /** Prepares this many resources per macrotask, so that a batch does not hold the event loop for its whole length. */
  slice?: number;
  /** No request waits for the write (see QueryOptions). */
  background?: boolean;
  /**
   * Records the server writes itself (audit, feedback): each gets the server-recorded tag (record-origin.ts). Without
   * it, a resource claiming a record origin is refused like any client write.
   */
  serverRecorded?: boolean;
  /** Ids assigned beforehand, one per input (a transaction Bundle's entries refer to each other by them). */
  ids?: readonly string[];
  /** The error to throw when input `index` is refused (a Bundle names its entry); the refusal itself by default. */
  onRejected?: (index: number, err: unknown) => unknown;
}

/**
 * Creates many new resources with one statement (current versions, history rows and search index together): for
 * server-written records (audit) where per-resource round trips would dominate. All or nothing.
 */
export async function createResources<T extends Resource>(
  ctx: StoreContext,
  inputs: T[],
  options: CreateManyOptions = {},
): Promise<T[]> {
  if (inputs.length === 0) return [];
  const slice = options.slice ?? inputs.length;
  const resources: Resource[] = [];
  const versions: string[] = [];
  for (let start = 0; start < inputs.length; start += slice) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    for (let index = start; index < Math.min(inputs.length, start + slice); index++) {
      const resource = prepareNew(ctx, inputs[index] as T, options, index);
      resources.push(resource);
      versions.push(
        JSON.stringify({
          resource_type: resource.resourceType,
          id: resource.id,
          last_updated: resource.meta?.lastUpdated,
          content: resource,
          history: !isAppendOnly(resource.resourceType),
          index: extractIndexRows(resource),
        }),
      );
    }
  }
  // One statement is atomic on its own; the versions' JSON is parsed once and feeds all three tables.
  const written = ctx.db.query(
    `WITH v AS (
       SELECT x.resource_type, x.id, x.last_updated::timestamptz AS last_updated, x.content, x.history, x.index
       FROM jsonb_to_recordset($2::jsonb)
         AS x(resource_type text, id text, last_updated text, content jsonb, history boolean, index jsonb)
     ), current_rows AS (
       INSERT INTO fhir_resources (project_id, resource_type, id, version_id, last_updated, deleted, content)
       SELECT $1, resource_type, id, 1, last_updated, false, content FROM v
     ), history_rows AS (
       INSERT INTO fhir_history (project_id, resource_type, id, version_id, last_updated, deleted, content)
       SELECT $1, resource_type, id, 1, last_updated, false, content FROM v WHERE history
     )
     ${insertIndexSql('v.resource_type', 'v.id', 'v, jsonb_to_recordset(v.index)')}`,
    [ctx.access.projectId, `[${versions.join(',')}]`],
    { background: options.background === true },
  );
  await uniqueAsConflict(written);
  noteWrite(ctx.db);
  return resources as T[];
}

/** Validated, authorized and stamped as a new resource; refusals go through `options.onRejected`. */
function prepareNew(ctx: StoreContext, input: Resource, options: CreateManyOptions, index: number): Resource {
  try {
    const validated = validateForWrite(input, { serverBuilt: options.serverBuilt === true });
    authorize(ctx, validated.resourceType, 'c');
    if (!options.serverRecorded) refuseRecordOriginClaim(validated);
    const id = options.ids?.[index] ?? newResourceId();
    return stamp(ctx, options.serverRecorded ? markServerRecorded(validated) : validated, id, 1);
  } catch (err) {
    throw options.onRejected ? options.onRejected(index, err) : err;
  }
}

export async function updateResource<T extends Resource>(
  ctx: StoreContext,
  input: T,
  options: UpdateOptions = {},
): Promise<T> {
  const type = typeof input?.resourceType === 'string' ? input.resourceType : '';
  if (type) {
    authorize(ctx, type, 'u');
  }
  const validated = validateForWrite(input);
  refuseRecordOriginClaim(validated);
  const id = validated.id;
  if (!id) {
    throw new HookbotError('fhir.missing-id', 'Resource id is required for update', {
      issues: [{ severity: 'error', code: 'required', diagnostics: 'Missing id', expression: [`${type}.id`] }],
    });
  }
  const projectId = ctx.access.projectId;
  const expected = options.ifMatch === undefined ? undefined : parseETag(options.ifMatch);
  const result = await uniqueAsConflict(
    ctx.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ version_id: number }>(
        'SELECT version_id FROM fhir_resources WHERE project_id = $1 AND resource_type = $2 AND id = $3 FOR UPDATE',
        [projectId, validated.resourceType, id],
      );
      const current = rows[0];
      if (!current) {
        if (expected !== undefined) {
          throw preconditionFailed(`If-Match ${options.ifMatch} does not match: resource does not exist`);
        }
        authorize(ctx, validated.resourceType, 'c');
        const resource = stamp(ctx, validated, id, 1);
        await insertCurrent(tx, projectId, resource);
        await writeVersion(tx, projectId, resource, true);
        return resource as T;
      }
      const version = Number(current.version_id);
      if (expected !== undefined && expected !== String(version)) {
        throw preconditionFailed(`If-Match ${options.ifMatch} does not match the current version ${version}`);
      }
      const resource = stamp(ctx, validated, id, version + 1);
      await tx.query(
        `UPDATE fhir_resources SET version_id = $4, last_updated = $5, deleted = false, content = $6::jsonb
       WHERE project_id = $1 AND resource_type = $2 AND id = $3`,
        [projectId, resource.resourceType, id, version + 1, resource.meta?.lastUpdated, JSON.stringify(resource)],
      );
      await writeVersion(tx, projectId, resource, false);
      return resource as T;
    }),
  );
  noteWrite(ctx.db);
  return result;
}

export async function deleteResource(
  ctx: StoreContext,
  resourceType: string,
  id: string,
  options: UpdateOptions = {},
): Promise<void> {
  authorize(ctx, resourceType, 'd');
  const expected = options.ifMatch === undefined ? undefined : parseETag(options.ifMatch);
  const projectId = ctx.access.projectId;
  await ctx.db.transaction(async (tx) => {
    const { rows } = await tx.query<{ version_id: number; deleted: boolean }>(
      `SELECT version_id, deleted FROM fhir_resources
       WHERE project_id = $1 AND resource_type = $2 AND id = $3 FOR UPDATE`,
      [projectId, resourceType, id],
    );
    const current = rows[0];
    if (!current) {
      throw notFound('fhir.not-found', `${resourceType}/${id} not found`);
    }
    if (expected !== undefined && expected !== String(current.version_id)) {
      throw preconditionFailed(`If-Match ${options.ifMatch} does not match the current version ${current.version_id}`);
    }
    if (current.deleted) {
      return;
    }
    const version = Number(current.version_id) + 1;
    const now = new Date().toISOString();
    await tx.query(
      `UPDATE fhir_resources SET version_id = $4, last_updated = $5, deleted = true, content = NULL
       WHERE project_id = $1 AND resource_type = $2 AND id = $3`,
      [projectId, resourceType, id, version, now],
    );
    await tx.query(
      `INSERT INTO fhir_history (project_id, resource_type, id, version_id, last_updated, deleted, content)
       VALUES ($1, $2, $3, $4, $5, true, NULL)`,
      [projectId, resourceType, id, version, now],
    );
    await tx.query('DELETE FROM fhir_index WHERE project_id = $1 AND resource_type = $2 AND resource_id = $3', [
      projectId,
      resourceType,
      id,
    ]);
  });
  noteWrite(ctx.db);
}

/**
 * 409 for a write that a unique index refuses (a Bot taking a rule-set id another Bot of the project holds, also
 * when both are written at once), as FHIR answers a conflicting write.
 */
async function uniqueAsConflict<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw conflict(
        'fhir.conflict',
        'The resource conflicts with one already stored or written concurrently (a unique identifier)',
      );
    }
    throw err;
  }
}

/** `W/"3"`, `"3"` or `3` → `3`. */
function parseETag(etag: string): string {
  return etag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}

/** Id, version, time, and the person who wrote it (or none: `fhir/author.ts`). */
function stamp(ctx: StoreContext, resource: Resource, id: string, version: number): Resource {
  const authored = withAuthor(resource, ctx.access.author);
  return {
    ...authored,
    id,
    meta: { ...authored.meta, versionId: String(version), lastUpdated: new Date().toISOString() },
  } as Resource;
}

async function insertCurrent(tx: Database, projectId: string, resource: Resource): Promise<void> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO fhir_resources (project_id, resource_type, id, version_id, last_updated, deleted, content)
     VALUES ($1, $2, $3, 1, $4, false, $5::jsonb) ON CONFLICT DO NOTHING RETURNING id`,
    [projectId, resource.resourceType, resource.id, resource.meta?.lastUpdated, JSON.stringify(resource)],
  );
  if (rows.length === 0) {
    throw conflict('fhir.conflict', `${resource.resourceType}/${resource.id} was created concurrently`);
  }
}

/** The history row (none for an append-only type) and a fresh set of search index rows for the version just written. */
async function writeVersion(tx: Database, projectId: string, resource: Resource, isNew: boolean): Promise<void> {
  const { resourceType, id } = resource;
  if (!isAppendOnly(resourceType)) await writeHistory(tx, projectId, resource);
  if (!isNew) {
    await tx.query('DELETE FROM fhir_index WHERE project_id = $1 AND resource_type = $2 AND resource_id = $3', [
      projectId,
      resourceType,
      id,
    ]);
  }
  const rows = extractIndexRows(resource);
  if (rows.length > 0) {
    await tx.query(insertIndexSql('$2', '$3', 'jsonb_to_recordset($4::jsonb)'), [
      projectId,
      resourceType,
      id,
      JSON.stringify(rows),
    ]);
  }
}

async function writeHistory(tx: Database, projectId: string, resource: Resource): Promise<void> {
  await tx.query(
    `INSERT INTO fhir_history (project_id, resource_type, id, version_id, last_updated, deleted, content)
     VALUES ($1, $2, $3, $4, $5, false, $6::jsonb)`,
    [
      projectId,
      resource.resourceType,
      resource.id,
      Number(resource.meta?.versionId),
      resource.meta?.lastUpdated,
      JSON.stringify(resource),
    ],
  );
}

/** Inserts index rows (objects of IndexRow's columns) of the resource `type`/`id` from `rows`; `$1` is the project. */
const insertIndexSql = (type: string, id: string, rows: string) => `INSERT INTO fhir_index
  (project_id, resource_type, resource_id, code, system, value, norm, low, high, num, ref_type, ref_id)
  SELECT $1, ${type}, ${id}, x.code, x.system, x.value, x.norm, x.low::timestamptz, x.high::timestamptz, x.num::numeric,
         x.ref_type, x.ref_id
  FROM ${rows} AS x(code text, system text, value text, norm text, low text, high text, num text, ref_type text, ref_id text)`;
