/**
 * Console sessions: an opaque random secret in an `HttpOnly`, `SameSite=Strict` cookie; the database keeps its
 * SHA-256 with the user and an expiry, so every instance reads the same sessions, signing out revokes one at once,
 * and removing a user removes theirs (`ON DELETE CASCADE`). Each request with the cookie reads the session, its user
 * and project in one query. A request other than GET or HEAD (or a GET of `$execute` or `$export`, which start work)
 * must repeat the session's CSRF token in
 * `X-CSRF-Token`: a value derived from the secret, which a page of another site can neither read nor compute.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { Caller } from '../auth/access-token.js';
import { setCookie } from '../auth/cookies.js';
import { parseScopes } from '../auth/scopes.js';
import { userRoleDefinition, type SessionUser, type UserRole } from '../auth/user-roles.js';
import type { Database } from '../infra/database.js';
import { forbidden, unauthorized } from '../infra/errors.js';

export const SESSION_COOKIE = 'hookbot_session';
export const CSRF_HEADER = 'X-CSRF-Token';
/** A working day: a session ends then even if used, and at sign-out or the user's removal before. */
export const SESSION_SECONDS = 12 * 3600;

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
const idHashOf = (secret: string) => sha256(`session:${secret}`);
/** The CSRF token of a session. */
export const csrfTokenOf = (secret: string) => sha256(`csrf:${secret}`);

export interface Session {
  user: SessionUser;
  /** Seconds since the epoch. */
  expires: number;
  issuedAt: number;
}

/** Starts a session for `userId`: its secret, for the cookie. Expired sessions of the user are dropped meanwhile. */
export async function createSession(db: Database, userId: string): Promise<string> {
  const secret = randomBytes(32).toString('base64url');
  await db.query('DELETE FROM user_sessions WHERE user_id = $1 AND expires_at < now()', [userId]);
  await db.query('INSERT INTO user_sessions (id_hash, user_id, expires_at) VALUES ($1, $2, $3)', [
    idHashOf(secret),
    userId,
    new Date(Date.now() + SESSION_SECONDS * 1000),
  ]);
  return secret;
}

/** The live session of this secret, with its user and project; undefined when expired, revoked or unknown. */
export async function findSession(db: Database, secret: string): Promise<Session | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return undefined;
  const { rows } = await db.query<{
    id: string;
    email: string;
    name: string;
    role: UserRole;
    project_id: string;
    project_name: string;
    expires: string | number;
    issued: string | number;
  }>(
    `SELECT u.id, u.email, u.name, u.role, u.project_id, p.name AS project_name,
            extract(epoch FROM s.expires_at)::bigint AS expires, extract(epoch FROM s.created_at)::bigint AS issued
     FROM user_sessions s JOIN users u ON u.id = s.user_id JOIN projects p ON p.id = u.project_id
     WHERE s.id_hash = $1 AND s.expires_at > now()`,
    [idHashOf(secret)],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    user: {
      id: row.id,
      email: row.email,
      name: row.name,
      role: row.role,
      projectId: row.project_id,
      projectName: row.project_name,
    },
    expires: Number(row.expires),
    issuedAt: Number(row.issued),
  };
}

export async function revokeSession(db: Database, secret: string): Promise<void> {
  await db.query('DELETE FROM user_sessions WHERE id_hash = $1', [idHashOf(secret)]);
}

export interface CookieDeps {
  /** The server's base URL: the cookie is `Secure` when it is https. */
  baseUrl: string;
}

export function setSessionCookie(ctx: Context, deps: CookieDeps, secret: string, maxAge = SESSION_SECONDS): void {
  const secure = deps.baseUrl.startsWith('https:');
  setCookie(ctx, SESSION_COOKIE, secret, { path: '/', maxAge, sameSite: 'Strict', secure });
}

export const clearSessionCookie = (ctx: Context, deps: CookieDeps) => setSessionCookie(ctx, deps, '', 0);

export const sessionSecretOf = (ctx: Context): string | undefined => ctx.cookies.get(SESSION_COOKIE) || undefined;

const SAFE_METHODS = new Set(['GET', 'HEAD']);
/** GETs that start work (a bot run, an export job): not safe, so they need the CSRF token as writes do. */
const STARTS_WORK = /\/\$(?:execute|export)$/;

function csrfMatches(ctx: Context, secret: string): boolean {
  const sent = Buffer.from(ctx.get(CSRF_HEADER));
  const expected = Buffer.from(csrfTokenOf(secret));
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}

/** A caller as the rest of the server knows callers: the user's role mapped to a client role and scopes. */
export function sessionCallerOf(session: Session, secret: string): Caller {
  const { user } = session;
  const role = userRoleDefinition(user.role);
  return Object.freeze({
    clientId: `user:${user.id}`,
    projectId: user.projectId,
    admin: false,
    role: role.clientRole,
    scope: role.scope,
    scopes: parseScopes(role.scope),
    expires: session.expires,
    issuedAt: session.issuedAt,
    jti: `session:${idHashOf(secret).slice(0, 22)}`,
    generation: 0,
    user,
  });
}

/**
 * The caller of the request's session cookie, or undefined when it carries none. 401 when the session is not live;
 * 403 when a method other than GET or HEAD does not repeat its CSRF token.
 */
export async function sessionCaller(db: Database, ctx: Context): Promise<Caller | undefined> {
  const secret = sessionSecretOf(ctx);
  if (!secret) return undefined;
  const session = await findSession(db, secret);
  if (!session) throw unauthorized('auth.invalid-session', 'The session has ended: sign in again (POST /auth/session)');
  if ((!SAFE_METHODS.has(ctx.method) || STARTS_WORK.test(ctx.path)) && !csrfMatches(ctx, secret))
    throw forbidden('auth.csrf-required', `With a session cookie, send the session's CSRF token in ${CSRF_HEADER}`);
  return sessionCallerOf(session, secret);
}
