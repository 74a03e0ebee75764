/**
 * One chunk of an export job: the next `limit` resources of the job's current type after its cursor (keyset on the
 * primary key, so each chunk is one index range read, whatever the store's size), written as one NDJSON file with the
 * job's new cursor in one transaction. A chunk interrupted (a crash, a restart) wrote nothing and runs again; a job
 * cancelled meanwhile (its row gone) or taken by another runner (its lease replaced) keeps nothing of it.
 */
import type { Database } from '../../infra/database.js';
import { compartmentParams } from '../compartment.js';
import type { ClaimedJob, ExportCursor } from './jobs.js';

export type ChunkResult = 'more' | 'completed' | 'lost';

/**
 * The next resources of `type` for the job, as their stored JSON text (never parsed here: the stored text is the
 * NDJSON line, jsonb's text form holds no newline). Patient and Group level: the type's compartment rows, found from
 * the search index as a member's view is (`compartment.ts`), for any Patient or for the job's Patients.
 */
async function nextResources(
  db: Database,
  job: ClaimedJob,
  type: string,
  afterId: string,
  limit: number,
): Promise<{ id: string; content: string }[]> {
  const { spec } = job;
  const params: unknown[] = [job.projectId, type, afterId];
  const add = (value: unknown) => `$${params.push(value)}`;
  let where = '';
  if (spec.since) where += ` AND r.last_updated > ${add(spec.since)}::timestamptz`;
  if (spec.level !== 'system') {
    const patients = spec.patients ? add(spec.patients) : undefined;
    if (type === 'Patient') {
      if (patients) where += ` AND r.id = ANY(${patients}::text[])`;
    } else {
      where += ` AND r.id IN (SELECT c.resource_id FROM fhir_index c WHERE c.project_id = $1 AND c.resource_type = $2
        AND c.code = ANY(${add(compartmentParams(type))}::text[]) AND c.ref_type = 'Patient'${
          patients ? ` AND c.ref_id = ANY(${patients}::text[])` : ''
        })`;
    }
  }
  const { rows } = await db.query<{ id: string; content: string }>(
    `SELECT r.id, r.content::text AS content FROM fhir_resources r
     WHERE r.project_id = $1 AND r.resource_type = $2 AND r.id > $3 AND NOT r.deleted${where}
     ORDER BY r.id LIMIT ${Math.floor(limit)}`,
    params,
    { background: true },
  );
  return rows;
}

/** Runs the job's next chunk; `completed` when it was the last, `lost` when the job was cancelled or taken over. */
export async function runChunk(
  db: Database,
  job: ClaimedJob,
  limit: number,
  retentionSeconds: number,
): Promise<ChunkResult> {
  const { types } = job.spec;
  let cursor = job.cursor;
  let rows: { id: string; content: string }[] = [];
  let type: string | undefined;
  // Types with nothing (more) to export are passed in the same chunk: a cheap index probe each.
  while (cursor.typeIndex < types.length) {
    type = types[cursor.typeIndex] as string;
    rows = await nextResources(db, job, type, cursor.afterId, limit);
    if (rows.length > 0) break;
    cursor = { ...cursor, typeIndex: cursor.typeIndex + 1, afterId: '' };
  }
  const done = cursor.typeIndex >= types.length;
  const next: ExportCursor =
    done || rows.length === 0
      ? cursor
      : rows.length < limit
        ? { typeIndex: cursor.typeIndex + 1, afterId: '', fileNo: cursor.fileNo + 1 }
        : { typeIndex: cursor.typeIndex, afterId: rows[rows.length - 1]?.id ?? '', fileNo: cursor.fileNo + 1 };
  const completed = done || next.typeIndex >= types.length;
  return db.transaction(async (tx) => {
    const { rows: updated } = await tx.query<{ id: string }>(
      `UPDATE export_jobs SET cursor = $3::jsonb, exported = exported + $4, updated_at = now(),
         lease = NULL, locked_until = NULL,
         status = CASE WHEN $5::boolean THEN 'completed' ELSE 'running' END,
         expires_at = CASE WHEN $5::boolean THEN now() + ($6::text || ' seconds')::interval END
       WHERE id = $1 AND lease = $2 RETURNING id`,
      [job.id, job.lease, JSON.stringify(next), rows.length, completed, String(retentionSeconds)],
    );
    if (updated.length === 0) return 'lost';
    if (rows.length > 0) {
      await tx.query(
        `INSERT INTO export_files (job_id, file_no, project_id, resource_type, count, content)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [job.id, cursor.fileNo, job.projectId, type, rows.length, `${rows.map((r) => r.content).join('\n')}\n`],
      );
    }
    return completed ? 'completed' : 'more';
  });
}
