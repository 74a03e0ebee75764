/**
 * The `pas_authorizations` and `pas_bindings` rows (migration 010). Every statement names the project: a row of
 * another tenant is never read or written.
 */
import type { Bundle } from '@medplum/fhirtypes';
import type { Database } from '../infra/database.js';
import type { Decision } from './decision.js';

export type AuthorizationStatus = 'received' | 'pended' | 'complete' | 'cancelled';

export interface AuthorizationRow {
  projectId: string;
  id: string;
  claimId: string;
  preAuthRef: string;
  status: AuthorizationStatus;
  memberId: string;
  patientId: string;
  /** Identifiers (`system|value` and value) of the request's Claim and of every update's. */
  claimIdentifiers: string[];
  providerIdentifiers: string[];
  orgIdentifier: string | null;
  clientId: string;
  requestBundle: Bundle;
  decision: Decision | null;
  responseBundle: Bundle | null;
  /** Documents received after the request (`$submit-attachment`). */
  attachments: unknown[];
  createdAt: string;
  updatedAt: string;
}

interface RawRow {
  project_id: string;
  id: string;
  claim_id: string;
  pre_auth_ref: string;
  status: AuthorizationStatus;
  member_id: string;
  patient_id: string;
  claim_identifiers: string[] | string | null;
  provider_identifiers: string[] | string | null;
  org_identifier: string | null;
  client_id: string;
  request_bundle: Bundle | string;
  decision: Decision | string | null;
  response_bundle: Bundle | string | null;
  attachments: unknown[] | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const json = <T>(v: T | string | null): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
const iso = (v: Date | string) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

function toRow(r: RawRow): AuthorizationRow {
  return {
    projectId: r.project_id,
    id: r.id,
    claimId: r.claim_id,
    preAuthRef: r.pre_auth_ref,
    status: r.status,
    memberId: r.member_id,
    patientId: r.patient_id,
    claimIdentifiers: json<string[]>(r.claim_identifiers) ?? [],
    providerIdentifiers: json<string[]>(r.provider_identifiers) ?? [],
    orgIdentifier: r.org_identifier,
    clientId: r.client_id,
    requestBundle: json<Bundle>(r.request_bundle) as Bundle,
    decision: json<Decision>(r.decision),
    responseBundle: json<Bundle>(r.response_bundle),
    attachments: json<unknown[]>(r.attachments) ?? [],
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export type NewAuthorization = Omit<
  AuthorizationRow,
  'decision' | 'responseBundle' | 'attachments' | 'createdAt' | 'updatedAt'
>;

export async function insertAuthorization(db: Database, row: NewAuthorization): Promise<void> {
  await db.query(
    `INSERT INTO pas_authorizations (project_id, id, claim_id, pre_auth_ref, status, member_id, patient_id,
       claim_identifiers, provider_identifiers, org_identifier, client_id, request_bundle)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12::jsonb)`,
    [
      row.projectId,
      row.id,
      row.claimId,
      row.preAuthRef,
      row.status,
      row.memberId,
      row.patientId,
      JSON.stringify(row.claimIdentifiers),
      JSON.stringify(row.providerIdentifiers),
      row.orgIdentifier,
      row.clientId,
      JSON.stringify(row.requestBundle),
    ],
  );
}

export interface AuthorizationUpdate {
  status: AuthorizationStatus;
  decision: Decision;
  responseBundle: Bundle;
  claimId?: string;
  requestBundle?: Bundle;
  attachments?: unknown[];
  /** More identifiers the authorization is found by (an update's Claim). */
  addIdentifiers?: string[];
}

export async function updateAuthorization(
  db: Database,
  projectId: string,
  id: string,
  update: AuthorizationUpdate,
): Promise<void> {
  await db.query(
    `UPDATE pas_authorizations SET status = $3, decision = $4::jsonb, response_bundle = $5::jsonb,
       claim_id = COALESCE($6, claim_id), request_bundle = COALESCE($7::jsonb, request_bundle),
       attachments = COALESCE($8::jsonb, attachments), claim_identifiers = claim_identifiers || $9::jsonb,
       updated_at = now()
     WHERE project_id = $1 AND id = $2`,
    [
      projectId,
      id,
      update.status,
      JSON.stringify(update.decision),
      JSON.stringify(update.responseBundle),
      update.claimId ?? null,
      update.requestBundle ? JSON.stringify(update.requestBundle) : null,
      update.attachments ? JSON.stringify(update.attachments) : null,
      JSON.stringify(update.addIdentifiers ?? []),
    ],
  );
}

export async function getAuthorization(
  db: Database,
  projectId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<AuthorizationRow | undefined> {
  const { rows } = await db.query<RawRow>(
    `SELECT * FROM pas_authorizations WHERE project_id = $1 AND id = $2${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [projectId, id],
  );
  return rows[0] ? toRow(rows[0]) : undefined;
}

/**
 * The member's authorizations submitted by `clientId`, newest first (another client's never fill the page). Only the
 * authenticated client counts, here and in `findByReference`: provider identifiers (an NPI) are public and a request
 * names whichever it likes, so they never prove that another client speaks for the same organisation.
 */
export async function findByMember(
  db: Database,
  projectId: string,
  memberId: string,
  clientId: string,
): Promise<AuthorizationRow[]> {
  const { rows } = await db.query<RawRow>(
    `SELECT * FROM pas_authorizations WHERE project_id = $1 AND member_id = $2 AND client_id = $3
     ORDER BY created_at DESC LIMIT 100`,
    [projectId, memberId, clientId],
  );
  return rows.map(toRow);
}

export async function getBinding(db: Database, projectId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ bot_id: string }>('SELECT bot_id FROM pas_bindings WHERE project_id = $1', [
    projectId,
  ]);
  return rows[0]?.bot_id;
}

export async function setBinding(db: Database, projectId: string, botId: string): Promise<void> {
  await db.query(
    `INSERT INTO pas_bindings (project_id, bot_id) VALUES ($1, $2)
     ON CONFLICT (project_id) DO UPDATE SET bot_id = EXCLUDED.bot_id, updated_at = now()`,
    [projectId, botId],
  );
}

/** The authorizations `clientId` submitted whose PAS reference (`preAuthRef`) or Claim identifier is one of `keys`. */
export async function findByReference(
  db: Database,
  projectId: string,
  clientId: string,
  keys: string[],
): Promise<AuthorizationRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query<RawRow>(
    `SELECT * FROM pas_authorizations WHERE project_id = $1 AND client_id = $3
       AND (pre_auth_ref IN (SELECT jsonb_array_elements_text($2::jsonb))
         OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(claim_identifiers) c
                    WHERE c IN (SELECT jsonb_array_elements_text($2::jsonb))))
     ORDER BY created_at DESC LIMIT 100`,
    [projectId, JSON.stringify(keys), clientId],
  );
  return rows.map(toRow);
}

export interface HistoryEntry {
  preAuthRef: string;
  /** Submitted by the client whose request is being decided (the bot may name only these in its answer). */
  sameSubmitter: boolean;
  status: AuthorizationStatus;
  created: string;
  items: Decision['items'];
}

/**
 * The member's most recent other authorizations in the project (whoever submitted them) and their decisions, for
 * the payer's adjudication bot (light columns); `sameSubmitter` says which ones `clientId` submitted.
 */
export async function memberHistory(
  db: Database,
  projectId: string,
  memberId: string,
  exceptId: string,
  clientId: string,
  limit = 20,
): Promise<HistoryEntry[]> {
  const { rows } = await db.query<{
    pre_auth_ref: string;
    client_id: string;
    status: AuthorizationStatus;
    created_at: Date | string;
    decision: Decision | string | null;
  }>(
    `SELECT pre_auth_ref, client_id, status, created_at, decision FROM pas_authorizations
     WHERE project_id = $1 AND member_id = $2 AND id <> $3 AND decision IS NOT NULL
     ORDER BY created_at DESC LIMIT $4`,
    [projectId, memberId, exceptId, limit],
  );
  return rows.map((r) => ({
    preAuthRef: r.pre_auth_ref,
    sameSubmitter: r.client_id === clientId,
    status: r.status,
    created: iso(r.created_at),
    items: json<Decision>(r.decision)?.items ?? [],
  }));
}
