/** `pas_subscriptions` and `pas_callbacks` rows (migration 011). Every statement names the project. */
import type { Database } from '../infra/database.js';

export interface SubscriptionRow {
  projectId: string;
  id: string;
  clientId: string;
  orgIdentifiers: string[];
  endpoint: string;
  headers: string[];
  status: 'requested' | 'active' | 'error' | 'off';
  eventCount: number;
  failures: number;
  lastError: string | null;
}

interface RawSubscription {
  project_id: string;
  id: string;
  client_id: string;
  org_identifiers: string[] | string;
  endpoint: string;
  headers: string[] | string;
  status: SubscriptionRow['status'];
  event_count: string | number;
  failures: number;
  last_error: string | null;
}

const list = (v: string[] | string): string[] => (typeof v === 'string' ? (JSON.parse(v) as string[]) : v);

function toSubscription(r: RawSubscription): SubscriptionRow {
  return {
    projectId: r.project_id,
    id: r.id,
    clientId: r.client_id,
    orgIdentifiers: list(r.org_identifiers),
    endpoint: r.endpoint,
    headers: list(r.headers),
    status: r.status,
    eventCount: Number(r.event_count),
    failures: r.failures,
    lastError: r.last_error,
  };
}

export async function saveSubscription(
  db: Database,
  row: Omit<SubscriptionRow, 'eventCount' | 'failures' | 'lastError'>,
): Promise<void> {
  await db.query(
    `INSERT INTO pas_subscriptions (project_id, id, client_id, org_identifiers, endpoint, headers, status)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7)
     ON CONFLICT (project_id, id) DO UPDATE SET client_id = EXCLUDED.client_id, org_identifiers = EXCLUDED.org_identifiers,
       endpoint = EXCLUDED.endpoint, headers = EXCLUDED.headers, status = EXCLUDED.status`,
    [
      row.projectId,
      row.id,
      row.clientId,
      JSON.stringify(row.orgIdentifiers),
      row.endpoint,
      JSON.stringify(row.headers),
      row.status,
    ],
  );
}

export async function getSubscription(
  db: Database,
  projectId: string,
  id: string,
): Promise<SubscriptionRow | undefined> {
  const { rows } = await db.query<RawSubscription>(
    'SELECT * FROM pas_subscriptions WHERE project_id = $1 AND id = $2',
    [projectId, id],
  );
  return rows[0] ? toSubscription(rows[0]) : undefined;
}

export async function activeSubscriptionsOf(
  db: Database,
  projectId: string,
  clientId: string,
): Promise<SubscriptionRow[]> {
  const { rows } = await db.query<RawSubscription>(
    `SELECT * FROM pas_subscriptions WHERE project_id = $1 AND client_id = $2 AND status = 'active'`,
    [projectId, clientId],
  );
  return rows.map(toSubscription);
}

/** How many PAS Subscriptions `clientId` holds: those whose Subscription resource still exists (not deleted). */
export async function countSubscriptionsOf(db: Database, projectId: string, clientId: string): Promise<number> {
  const { rows } = await db.query<{ n: string | number }>(
    `SELECT count(*) AS n FROM pas_subscriptions s JOIN fhir_resources r
       ON r.project_id = s.project_id AND r.resource_type = 'Subscription' AND r.id = s.id AND NOT r.deleted
     WHERE s.project_id = $1 AND s.client_id = $2`,
    [projectId, clientId],
  );
  return Number(rows[0]?.n ?? 0);
}

/** The next event number of a subscription (events since it started). */
export async function nextEventNumber(db: Database, projectId: string, id: string): Promise<number> {
  const { rows } = await db.query<{ event_count: string | number }>(
    `UPDATE pas_subscriptions SET event_count = event_count + 1 WHERE project_id = $1 AND id = $2 RETURNING event_count`,
    [projectId, id],
  );
  return Number(rows[0]?.event_count ?? 0);
}

export async function noteAttempt(
  db: Database,
  projectId: string,
  id: string,
  outcome: { ok: boolean; error?: string; exhausted: boolean },
): Promise<void> {
  await db.query(
    outcome.ok
      ? `UPDATE pas_subscriptions SET last_error = NULL WHERE project_id = $1 AND id = $2`
      : `UPDATE pas_subscriptions SET failures = failures + 1, last_error = $3,
           status = CASE WHEN $4 THEN 'error' ELSE status END WHERE project_id = $1 AND id = $2`,
    outcome.ok ? [projectId, id] : [projectId, id, outcome.error ?? 'failed', outcome.exhausted],
  );
}

export interface CallbackRow {
  projectId: string;
  clientId: string;
  url: string;
  tokenUrl: string;
  oauthClientId: string;
  /** Sealed with the secrets key for the project. */
  oauthClientSecret: string;
  scope: string | null;
}

export async function saveCallback(db: Database, row: CallbackRow): Promise<void> {
  await db.query(
    `INSERT INTO pas_callbacks (project_id, client_id, url, token_url, oauth_client_id, oauth_client_secret, scope)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (project_id, client_id) DO UPDATE SET url = EXCLUDED.url, token_url = EXCLUDED.token_url,
       oauth_client_id = EXCLUDED.oauth_client_id, oauth_client_secret = EXCLUDED.oauth_client_secret, scope = EXCLUDED.scope`,
    [row.projectId, row.clientId, row.url, row.tokenUrl, row.oauthClientId, row.oauthClientSecret, row.scope],
  );
}

export async function getCallback(db: Database, projectId: string, clientId: string): Promise<CallbackRow | undefined> {
  const { rows } = await db.query<{
    url: string;
    token_url: string;
    oauth_client_id: string;
    oauth_client_secret: string;
    scope: string | null;
  }>('SELECT * FROM pas_callbacks WHERE project_id = $1 AND client_id = $2', [projectId, clientId]);
  const r = rows[0];
  return r
    ? {
        projectId,
        clientId,
        url: r.url,
        tokenUrl: r.token_url,
        oauthClientId: r.oauth_client_id,
        oauthClientSecret: r.oauth_client_secret,
        scope: r.scope,
      }
    : undefined;
}
