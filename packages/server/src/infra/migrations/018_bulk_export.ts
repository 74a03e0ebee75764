/**
 * Bulk Data export jobs (`fhir/export/`): one row per `$export` kick-off, bound to the project and client that
 * started it, with the cursor the background runner resumes from (so a job survives a restart, and any instance
 * sharing the database may run its next chunk), and the NDJSON files it wrote, one row each, in the database so that
 * every instance can serve them.
 */
export const statements: string[] = [
  `CREATE TABLE export_jobs (
    id text PRIMARY KEY,
    project_id text NOT NULL,
    client_id text NOT NULL,
    status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    request_url text NOT NULL,
    spec jsonb NOT NULL,
    cursor jsonb NOT NULL,
    exported bigint NOT NULL DEFAULT 0,
    error text NULL,
    transaction_time timestamptz NOT NULL,
    lease text NULL,
    locked_until timestamptz NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NULL
  )`,
  `CREATE INDEX export_jobs_project_idx ON export_jobs (project_id, status)`,
  `CREATE INDEX export_jobs_runnable_idx ON export_jobs (updated_at) WHERE status IN ('queued', 'running')`,
  `CREATE TABLE export_files (
    job_id text NOT NULL REFERENCES export_jobs(id) ON DELETE CASCADE,
    file_no integer NOT NULL,
    project_id text NOT NULL,
    resource_type text NOT NULL,
    count integer NOT NULL,
    content text NOT NULL,
    PRIMARY KEY (job_id, file_no)
  )`,
];
