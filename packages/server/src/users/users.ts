/**
 * Named users: each belongs to exactly one project and holds one role there. An email is unique on the whole
 * server (a constraint), so signing in needs only email and password; someone working for two payers has two
 * emails. Passwords (12 to 128 characters) are stored as `auth/passwords.ts` hashes, never returned.
 */
import { randomUUID } from 'node:crypto';
import { hashPassword, normalEmail, verifyPassword, type Cost } from '../auth/passwords.js';
import type { UserRole } from '../auth/user-roles.js';
import { isUniqueViolation, type Database } from '../infra/database.js';
import { badRequest, conflict, notFound } from '../infra/errors.js';

export const PASSWORD_LENGTH = { min: 12, max: 128 } as const;

export interface User {
  id: string;
  projectId: string;
  email: string;
  name: string;
  role: UserRole;
  createdAt: string;
}

export interface NewUser {
  projectId: string;
  email: string;
  name: string;
  role: UserRole;
  password: string;
  /** Only for a password the server generated itself (`GENERATED_PASSWORD_COST`). */
  cost?: Cost;
}

export function checkPassword(password: unknown, field = 'password'): string {
  if (typeof password !== 'string' || password.length < PASSWORD_LENGTH.min || password.length > PASSWORD_LENGTH.max)
    throw badRequest(
      'user.invalid-request',
      `"${field}" must be ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters`,
      field,
    );
  return password;
}

interface UserRow {
  id: string;
  project_id: string;
  email: string;
  name: string;
  role: UserRole;
  created_at: string | Date;
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  projectId: row.project_id,
  email: row.email,
  name: row.name,
  role: row.role,
  createdAt: new Date(row.created_at).toISOString(),
});

const COLUMNS = 'id, project_id, email, name, role, created_at';

/** 409 when the email belongs to a user already (of any project). */
export async function createUser(db: Database, input: NewUser): Promise<User> {
  const passwordHash = await hashPassword(checkPassword(input.password), input.cost);
  try {
    const { rows } = await db.query<UserRow>(
      `INSERT INTO users (id, project_id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING ${COLUMNS}`,
      [randomUUID(), input.projectId, normalEmail(input.email), input.name.trim(), input.role, passwordHash],
    );
    return toUser(rows[0] as UserRow);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('user.email-taken', 'A user with this email exists already');
    throw err;
  }
}

export async function listUsers(db: Database, projectId: string): Promise<User[]> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${COLUMNS} FROM users WHERE project_id = $1 ORDER BY created_at, email`,
    [projectId],
  );
  return rows.map(toUser);
}

/** Removes a user of `projectId` with their sessions (cascade); 404 for an id of another project or none. */
export async function removeUser(db: Database, projectId: string, userId: string): Promise<void> {
  const { rows } = await db.query('DELETE FROM users WHERE project_id = $1 AND id = $2 RETURNING id', [
    projectId,
    userId,
  ]);
  if (rows.length === 0) throw notFound('user.not-found', 'No such user in this project');
}

/** The user of `email` when `password` is theirs. The same scrypt work whether the email is known or not. */
export async function checkCredentials(db: Database, email: string, password: string): Promise<User | undefined> {
  const { rows } = await db.query<UserRow & { password_hash: string }>(
    `SELECT ${COLUMNS}, password_hash FROM users WHERE email = $1`,
    [normalEmail(email)],
  );
  const row = rows[0];
  const matches = await verifyPassword(password, row?.password_hash);
  return row && matches ? toUser(row) : undefined;
}
