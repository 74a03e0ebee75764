/**
 * Invitations: a project's administrator names an email and a role; the invited person sets a password with the
 * token (shown once, stored as its SHA-256), within a week, once. Using it marks it used in the same transaction
 * that creates the user (a conditional UPDATE), so two concurrent acceptances make one user.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { UserRole } from '../auth/user-roles.js';
import type { Database } from '../infra/database.js';
import { badRequest } from '../infra/errors.js';
import { checkPassword, createUser, type User } from './users.js';

export const INVITATION_SECONDS = 7 * 24 * 3600;

const tokenHashOf = (token: string) => createHash('sha256').update(`invitation:${token}`).digest('base64url');

export interface NewInvitation {
  projectId: string;
  email: string;
  name: string;
  role: UserRole;
  /** Who invited: a user's email, or a client id. */
  invitedBy: string;
}

export interface Invitation {
  invitationId: string;
  token: string;
  expiresAt: string;
}

export async function createInvitation(db: Database, input: NewInvitation): Promise<Invitation> {
  const token = randomBytes(32).toString('base64url');
  const id = randomUUID();
  const expiresAt = new Date(Date.now() + INVITATION_SECONDS * 1000);
  await db.query(
    `INSERT INTO user_invitations (id, project_id, email, name, role, token_hash, invited_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [id, input.projectId, input.email, input.name, input.role, tokenHashOf(token), input.invitedBy, expiresAt],
  );
  return { invitationId: id, token, expiresAt: expiresAt.toISOString() };
}

/**
 * The user the invitation makes, with `password` (and `name`, else the invitation's). An unknown, used or expired
 * token answers the same 400; an email that became a user meanwhile answers 409 and leaves the invitation unused.
 */
export async function acceptInvitation(db: Database, token: string, password: string, name?: string): Promise<User> {
  checkPassword(password);
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ project_id: string; email: string; name: string; role: UserRole }>(
      `UPDATE user_invitations SET used_at = now()
       WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
       RETURNING project_id, email, name, role`,
      [tokenHashOf(token)],
    );
    const invitation = rows[0];
    if (!invitation)
      throw badRequest('user.invalid-invitation', 'This invitation is unknown, used already or expired: ask again');
    return createUser(tx, {
      projectId: invitation.project_id,
      email: invitation.email,
      name: name?.trim() || invitation.name,
      role: invitation.role,
      password,
    });
  });
}
