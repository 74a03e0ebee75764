/**
 * Deliveries: durable jobs (when no Redis queue is configured), PAS Subscriptions' delivery state, and partners'
 * OAuth2-protected callbacks (the client secret sealed with the secrets key).
 */
export const statements: string[] = [
  `CREATE TABLE delivery_jobs (
    id text PRIMARY KEY,
    project_id text NOT NULL,
    target_kind text NOT NULL,
    target_id text NOT NULL,
    body jsonb NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'pending',
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz NULL,
    last_error text NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX delivery_jobs_due_idx ON delivery_jobs (status, next_attempt_at)`,
  `CREATE TABLE pas_subscriptions (
    project_id text NOT NULL,
    id text NOT NULL,
    client_id text NOT NULL,
    org_identifiers jsonb NOT NULL DEFAULT '[]',
    endpoint text NOT NULL,
    headers jsonb NOT NULL DEFAULT '[]',
    status text NOT NULL,
    event_count bigint NOT NULL DEFAULT 0,
    failures integer NOT NULL DEFAULT 0,
    last_error text NULL,
    PRIMARY KEY (project_id, id)
  )`,
  `CREATE TABLE pas_callbacks (
    project_id text NOT NULL,
    client_id text NOT NULL,
    url text NOT NULL,
    token_url text NOT NULL,
    oauth_client_id text NOT NULL,
    oauth_client_secret text NOT NULL,
    scope text NULL,
    PRIMARY KEY (project_id, client_id)
  )`,
];
