/**
 * Authorization codes and refresh tokens of member apps, in the database so that any instance redeems them. Only
 * their SHA-256 is stored. Each is used once: the UPDATE that marks it used is the check, so two instances racing
 * for the same code cannot both win. A code and the refresh tokens rotated from it form a family; using one of them
 * twice revokes the whole family, access tokens included (RFC 6749 §4.1.2, OAuth 2.0 Security BCP §4.14).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../infra/database.js';
import type { SharedState } from '../infra/shared-state.js';
import { markRevoked } from './revocation.js';

/** Codes expire in five minutes (seed 001); a family of refresh tokens lives 90 days from its code. */
export const CODE_TTL_SECONDS = 300;
export const REFRESH_TTL_SECONDS = 90 * 24 * 3600;

export type GrantKind = 'code' | 'refresh';

export interface Grant {
  familyId: string;
  clientId: string;
  projectId: string;
  accountId: string;
  patientId: string;
  scope: string;
  redirectUri?: string;
  codeChallenge?: string;
  nonce?: string;
  expiresAt: Date;
}

interface GrantRow {
  family_id: string;
  client_id: string;
  project_id: string;
  account_id: string;
  patient_id: string;
  scope: string;
  redirect_uri: string | null;
  code_challenge: string | null;
  nonce: string | null;
  expires_at: Date | string;
  expired: boolean;
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/** Stores a new code or refresh token of `grant`'s family and returns it (shown once). */
export async function createGrant(
  db: Database,
  kind: GrantKind,
  grant: Omit<Grant, 'familyId'> & { familyId?: string },
) {
  const token = randomBytes(32).toString('base64url');
  await db.query(
    `INSERT INTO member_grants (token_hash, kind, family_id, client_id, project_id, account_id, patient_id, scope,
       redirect_uri, code_challenge, nonce, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      hashOf(token),
      kind,
      grant.familyId ?? randomUUID(),
      grant.clientId,
      grant.projectId,
      grant.accountId,
      grant.patientId,
      grant.scope,
      grant.redirectUri ?? null,
      grant.codeChallenge ?? null,
      grant.nonce ?? null,
      grant.expiresAt,
    ],
  );
  return token;
}

export type UseResult =
  | { outcome: 'used-now'; grant: Grant; expired: boolean }
  | { outcome: 'used-before'; familyId: string }
  | { outcome: 'unknown' };

/** The scope a code or refresh token grants, without using it: a refused narrowing must not spend it. */
export async function grantedScopeOf(db: Database, kind: GrantKind, token: string): Promise<string | undefined> {
  if (token.includes('\u0000') || token.length > 200) return undefined;
  const { rows } = await db.query<{ scope: string }>(
    'SELECT scope FROM member_grants WHERE token_hash = $1 AND kind = $2',
    [hashOf(token), kind],
  );
  return rows[0]?.scope;
}

/**
 * Marks a code or refresh token used, atomically: only the first caller gets its grant. The access token it will be
 * answered with (`access`: its `jti` and `exp`) is recorded in the same statement, so a second use racing this one
 * finds it and revokes it with the family.
 */
export async function useGrant(
  db: Database,
  kind: GrantKind,
  token: string,
  access: { jti: string; exp: number },
): Promise<UseResult> {
  if (token.includes('\u0000') || token.length > 200) return { outcome: 'unknown' };
  const tokenHash = hashOf(token);
  const { rows } = await db.query<GrantRow>(
    `UPDATE member_grants SET used_at = now(), access_jti = $3, access_exp = $4
     WHERE token_hash = $1 AND kind = $2 AND used_at IS NULL
     RETURNING *, expires_at <= now() AS expired`,
    [tokenHash, kind, access.jti, access.exp],
  );
  const row = rows[0];
  if (!row) {
    const before = await db.query<{ family_id: string }>(
      'SELECT family_id FROM member_grants WHERE token_hash = $1 AND kind = $2',
      [tokenHash, kind],
    );
    const familyId = before.rows[0]?.family_id;
    return familyId ? { outcome: 'used-before', familyId } : { outcome: 'unknown' };
  }
  return {
    outcome: 'used-now',
    expired: row.expired,
    grant: {
      familyId: row.family_id,
      clientId: row.client_id,
      projectId: row.project_id,
      accountId: row.account_id,
      patientId: row.patient_id,
      scope: row.scope,
      ...(row.redirect_uri ? { redirectUri: row.redirect_uri } : {}),
      ...(row.code_challenge ? { codeChallenge: row.code_challenge } : {}),
      ...(row.nonce ? { nonce: row.nonce } : {}),
      expiresAt: new Date(row.expires_at),
    },
  };
}

/** Revokes a family: its unused refresh tokens can no longer be used, its access tokens are refused everywhere. */
export async function revokeFamily(db: Database, shared: SharedState, familyId: string): Promise<void> {
  const { rows } = await db.query<{ access_jti: string | null; access_exp: string | number | null }>(
    `UPDATE member_grants SET used_at = coalesce(used_at, now()) WHERE family_id = $1 RETURNING access_jti, access_exp`,
    [familyId],
  );
  await Promise.all(
    rows.flatMap((r) =>
      r.access_jti && r.access_exp ? [markRevoked(shared, r.access_jti, Number(r.access_exp))] : [],
    ),
  );
}

/**
 * Revokes the family of `token` when it is a refresh token of `clientId` (RFC 7009 §2.1: a client revokes only its
 * own); anything else is left alone.
 */
export async function revokeRefreshToken(db: Database, shared: SharedState, clientId: string, token: string) {
  if (token.includes('\u0000') || token.length > 200) return;
  const { rows } = await db.query<{ family_id: string }>(
    'SELECT family_id FROM member_grants WHERE token_hash = $1 AND kind = $2 AND client_id = $3',
    [hashOf(token), 'refresh', clientId],
  );
  if (rows[0]) await revokeFamily(db, shared, rows[0].family_id);
}
