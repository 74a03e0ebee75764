/**
 * The member's browser: a session cookie (a short-lived ES256 JWT naming the account, signed with the server's key,
 * so every instance reads it and none stores it) and a CSRF cookie whose value every form must repeat (double
 * submit). Both `HttpOnly`, `SameSite=Lax`, `Secure` outside development mode, scoped to the authorization pages.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Context } from 'koa';
import { setCookie as setSharedCookie } from '../auth/cookies.js';
import { TOKEN_ALG, type TokenKeys } from '../auth/signing-keys.js';
import type { Account } from './accounts.js';

const SESSION_COOKIE = 'hookbot_member';
const CSRF_COOKIE = 'hookbot_csrf';
const COOKIE_PATH = '/oauth2/authorize';
export const SESSION_SECONDS = 30 * 60;
const SESSION_TYP = 'member-session+jwt';

export interface BrowserDeps {
  key: TokenKeys;
  /** The server's base URL: the session's issuer and audience. */
  issuer: string;
  development: boolean;
}

function setCookie(ctx: Context, deps: BrowserDeps, name: string, value: string, maxAge: number): void {
  setSharedCookie(ctx, name, value, { path: COOKIE_PATH, maxAge, sameSite: 'Lax', secure: !deps.development });
}

/** The request's CSRF token, a new one (and its cookie) when it has none. */
export function csrfToken(ctx: Context, deps: BrowserDeps): string {
  const existing = ctx.cookies.get(CSRF_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  setCookie(ctx, deps, CSRF_COOKIE, token, 24 * 3600);
  return token;
}

/** Does the form repeat the CSRF cookie? */
export function csrfMatches(ctx: Context, form: Record<string, unknown>): boolean {
  const cookie = ctx.cookies.get(CSRF_COOKIE);
  const sent = form.csrf;
  if (!cookie || typeof sent !== 'string' || sent.length !== cookie.length) return false;
  return timingSafeEqual(Buffer.from(sent), Buffer.from(cookie));
}

export async function startSession(ctx: Context, deps: BrowserDeps, account: Account): Promise<void> {
  const jwt = await new SignJWT({ project: account.projectId, patient: account.patientId })
    .setProtectedHeader({ alg: TOKEN_ALG, kid: deps.key.current.kid, typ: SESSION_TYP })
    .setIssuer(deps.issuer)
    .setAudience(`${deps.issuer}${COOKIE_PATH}`)
    .setSubject(account.id)
    .setIssuedAt()
    .setExpirationTime(`${SESSION_SECONDS}s`)
    .sign(deps.key.current.privateKey);
  setCookie(ctx, deps, SESSION_COOKIE, jwt, SESSION_SECONDS);
}

export function endSession(ctx: Context, deps: BrowserDeps): void {
  setCookie(ctx, deps, SESSION_COOKIE, '', 0);
}

/** The signed-in account of `projectId`, if any: a session of another project is no session here. */
export async function sessionAccount(ctx: Context, deps: BrowserDeps, projectId: string): Promise<Account | undefined> {
  const cookie = ctx.cookies.get(SESSION_COOKIE);
  if (!cookie) return undefined;
  try {
    const { payload } = await jwtVerify(cookie, deps.key.verificationKey, {
      issuer: deps.issuer,
      audience: `${deps.issuer}${COOKIE_PATH}`,
      algorithms: [TOKEN_ALG],
      typ: SESSION_TYP,
      requiredClaims: ['sub', 'exp'],
    });
    if (payload.project !== projectId || typeof payload.patient !== 'string') return undefined;
    return { id: payload.sub as string, projectId, patientId: payload.patient };
  } catch {
    return undefined;
  }
}
