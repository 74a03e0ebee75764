/**
 * Export jobs in the `export_jobs` table (migration 018). A job is bound to the project and the client that started
 * it: every lookup by id names both, so another tenant's (or another client's) job reads as missing. Runners claim
 * one chunk's work at a time with a lease (`FOR UPDATE SKIP LOCKED`), so instances sharing a PostgreSQL database
 * never run one job's chunk twice at once, and a lease whose instance died runs out and the job is taken again.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../../infra/database.js';
import { HookbotError } from '../../infra/errors.js';
import type { ExportSpec } from './kickoff.js';

export type ExportStatus = 'queued' | 'running' | 'completed' | 'failed';

/** Where the next chunk starts: the type (index into `spec.types`), after which id, and the next file's number. */
export interface ExportCursor {
  typeIndex: number;
  afterId: string;
  fileNo: number;
}

export interface ExportJob {
  id: string;
  projectId: string;
  clientId: string;
  status: ExportStatus;
  requestUrl: string;
  spec: ExportSpec;
  cursor: ExportCursor;
  exported: number;
  error?: string;
  transactionTime: string;
  expiresAt?: string;
}

interface JobRow {
  id: string;
  project_id: string;
  client_id: string;
  status: ExportStatus;
  request_url: string;
  spec: ExportSpec | string;
  cursor: ExportCursor | string;
  exported: number | string;
  error: string | null;
  transaction_time: Date | string;
  expires_at: Date | string | null;
}

export interface ExportFile {
  fileNo: number;
  type: string;
  count: number;
}

/** How long a chunk may run before another runner may take its job: far longer than any chunk takes. */
export const LEASE_SECONDS = 60;

const json = <T>(value: T | string): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);
const iso = (value: Date | string) => new Date(value).toISOString();

function toJob(row: JobRow): ExportJob {
  return {
    id: row.id,
    projectId: row.project_id,
    clientId: row.client_id,
    status: row.status,
    requestUrl: row.request_url,
    spec: json(row.spec),
    cursor: json(row.cursor),
    exported: Number(row.exported),
    ...(row.error ? { error: row.error } : {}),
    transactionTime: iso(row.transaction_time),
    ...(row.expires_at ? { expiresAt: iso(row.expires_at) } : {}),
  };
}

const COLUMNS = `id, project_id, client_id, status, request_url, spec, cursor, exported, error, transaction_time,
  expires_at`;

export interface NewJob {
  projectId: string;
  clientId: string;
  requestUrl: string;
  spec: ExportSpec;
}

/**
 * Queues a job, unless the project already has `maxPerProject` queued or running (429 with `Retry-After`). The count
 * and the insert hold the project's advisory lock, so two kick-offs at once cannot both pass the bound.
 */
export async function createJob(db: Database, job: NewJob, maxPerProject: number): Promise<ExportJob> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('export:' || $1))`, [job.projectId]);
    const { rows: counts } = await tx.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM export_jobs WHERE project_id = $1 AND status IN ('queued', 'running')`,
      [job.projectId],
    );
    if ((counts[0]?.n ?? 0) >= maxPerProject) {
      throw new HookbotError(
        'fhir.export-limit',
        `This project already has ${maxPerProject} exports queued or running (HOOKBOT_EXPORT_MAX_JOBS_PER_PROJECT): wait for one to finish or cancel one`,
        { headers: { 'Retry-After': '30' } },
      );
    }
    const cursor: ExportCursor = { typeIndex: 0, afterId: '', fileNo: 1 };
    const { rows } = await tx.query<JobRow>(
      `INSERT INTO export_jobs (id, project_id, client_id, status, request_url, spec, cursor, transaction_time)
       VALUES ($1, $2, $3, 'queued', $4, $5::jsonb, $6::jsonb, now()) RETURNING ${COLUMNS}`,
      [randomUUID(), job.projectId, job.clientId, job.requestUrl, JSON.stringify(job.spec), JSON.stringify(cursor)],
    );
    return toJob(rows[0] as JobRow);
  });
}

/** The caller's job, or undefined: another project's or client's, an expired or a cancelled one are all missing. */
export async function findJob(
  db: Database,
  owner: { projectId: string; clientId: string },
  id: string,
): Promise<ExportJob | undefined> {
  const { rows } = await db.query<JobRow>(
    `SELECT ${COLUMNS} FROM export_jobs
     WHERE id = $1 AND project_id = $2 AND client_id = $3 AND (expires_at IS NULL OR expires_at > now())`,
    [id, owner.projectId, owner.clientId],
  );
  return rows[0] ? toJob(rows[0]) : undefined;
}

/** Cancels (or, finished, removes) the caller's job and its files; false when it has none of that id. */
export async function deleteJob(
  db: Database,
  owner: { projectId: string; clientId: string },
  id: string,
): Promise<boolean> {
  const { rows } = await db.query<{ id: string }>(
    `DELETE FROM export_jobs WHERE id = $1 AND project_id = $2 AND client_id = $3
       AND (expires_at IS NULL OR expires_at > now()) RETURNING id`,
    [id, owner.projectId, owner.clientId],
  );
  return rows.length > 0;
}

/** The files a job has written so far, in order. */
export async function jobFiles(db: Database, job: ExportJob): Promise<ExportFile[]> {
  const { rows } = await db.query<{ file_no: number; resource_type: string; count: number }>(
    `SELECT file_no, resource_type, count FROM export_files WHERE job_id = $1 AND project_id = $2 ORDER BY file_no`,
    [job.id, job.projectId],
  );
  return rows.map((r) => ({ fileNo: Number(r.file_no), type: r.resource_type, count: Number(r.count) }));
}

/** One file's NDJSON, of a job already found as the caller's. */
export async function fileContent(db: Database, job: ExportJob, fileNo: number): Promise<string | undefined> {
  const { rows } = await db.query<{ content: string }>(
    `SELECT content FROM export_files WHERE job_id = $1 AND project_id = $2 AND file_no = $3`,
    [job.id, job.projectId, fileNo],
  );
  return rows[0]?.content;
}

/** A job claimed for one chunk: `lease` must still be the job's when the chunk's result is written. */
export interface ClaimedJob extends ExportJob {
  lease: string;
}

/**
 * Claims the runnable job that advanced least recently (queued, running with no lease, or whose lease ran out), so
 * that jobs of several projects take turns chunk by chunk.
 */
export async function claimJob(db: Database): Promise<ClaimedJob | undefined> {
  const lease = randomUUID();
  const { rows } = await db.query<JobRow>(
    `UPDATE export_jobs SET status = 'running', lease = $1,
       locked_until = now() + interval '${LEASE_SECONDS} seconds'
     WHERE id = (
       SELECT id FROM export_jobs
       WHERE status IN ('queued', 'running') AND (locked_until IS NULL OR locked_until < now())
       ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING ${COLUMNS}`,
    [lease],
    { background: true },
  );
  return rows[0] ? { ...toJob(rows[0]), lease } : undefined;
}

/** Gives a claimed job back unchanged (the server is stopping): another runner, or this one restarted, takes it. */
export async function releaseJob(db: Database, job: ClaimedJob): Promise<void> {
  await db.query(`UPDATE export_jobs SET lease = NULL, locked_until = NULL WHERE id = $1 AND lease = $2`, [
    job.id,
    job.lease,
  ]);
}

/** Marks a claimed job failed with a message fit for its client; its files go, its status stays until it expires. */
export async function failJob(db: Database, job: ClaimedJob, message: string, retentionSeconds: number): Promise<void> {
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `UPDATE export_jobs SET status = 'failed', error = $3, lease = NULL, locked_until = NULL, updated_at = now(),
         expires_at = now() + ($4::text || ' seconds')::interval
       WHERE id = $1 AND lease = $2 RETURNING id`,
      [job.id, job.lease, message, String(retentionSeconds)],
    );
    if (rows.length > 0) await tx.query(`DELETE FROM export_files WHERE job_id = $1`, [job.id]);
  });
}

/** Removes jobs (and their files) past their expiry; answers how many. */
export async function removeExpired(db: Database): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `DELETE FROM export_jobs WHERE expires_at IS NOT NULL AND expires_at <= now() RETURNING id`,
    [],
    { background: true },
  );
  return rows.length;
}
