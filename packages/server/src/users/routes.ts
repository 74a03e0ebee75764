/**
 * The console's people: signing in and out (`/auth/session`), invitations and the project's users (`/admin/projects/
 * {id}/invitations`, `…/users`), accepting an invitation (`/auth/invitations/accept`). Every other route takes the
 * session cookie in place of a bearer token (`auth/middleware.ts`), within what the user's role allows
 * (`auth/user-roles.ts`).
 */
import { createHash } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Caller } from '../auth/access-token.js';
import { isEmail, normalEmail } from '../auth/passwords.js';
import { delayFailure, failedTooOften } from '../auth/token-failures.js';
import { isUserRole, USER_ROLES, type SessionUser } from '../auth/user-roles.js';
import { requireProject } from '../admin/projects.js';
import { badRequest, forbidden, HookbotError, unauthorized } from '../infra/errors.js';
import { createRouter, publicRoute } from '../infra/router.js';
import type { Services } from '../services.js';
import { acceptInvitation, createInvitation } from './invitations.js';
import {
  clearSessionCookie,
  createSession,
  csrfTokenOf,
  findSession,
  revokeSession,
  sessionSecretOf,
  setSessionCookie,
} from './sessions.js';
import { checkCredentials, listUsers, removeUser, type User } from './users.js';

/**
 * Failures (within token-failures.ts's window of 15 minutes) after which an email or an address is refused
 * outright, the right password included; before that, each failure beyond the first few waits longer.
 */
const REFUSE_AFTER = { client: 8, address: 50 };
/**
 * Sign-ins of an email (successful or not) checked within 15 minutes: failures are counted only once checked, so
 * guesses sent at once would all pass the count above; this bound is taken before the check, atomically.
 */
const ATTEMPTS_PER_EMAIL = 2 * REFUSE_AFTER.client;
const ATTEMPT_WINDOW_SECONDS = 15 * 60;

type Body = Record<string, unknown>;
const bodyOf = (ctx: Context): Body =>
  typeof ctx.request.body === 'object' && ctx.request.body !== null ? (ctx.request.body as Body) : {};

function text(body: Body, name: string, required: boolean): string | undefined {
  const value = body[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || (required && value === ''))
    throw badRequest('user.invalid-request', `"${name}" must be a string`, name);
  return value;
}

const userView = (user: User) => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  projectId: user.projectId,
  createdAt: user.createdAt,
});

/** May `caller` manage the people of `projectId`: its administrators, its `admin` clients, the super-admin. */
function mayManage(caller: Caller, projectId: string): boolean {
  if (caller.admin) return true;
  if (caller.projectId !== projectId) return false;
  return caller.user ? caller.user.role === 'administrator' : caller.role === 'admin';
}

export function usersRouter(services: Services): Router {
  const { db, shared, config } = services;
  const router = createRouter();
  const cookies = { baseUrl: config.baseUrl };

  const sessionBody = (user: SessionUser, secret: string) => ({
    user: {
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      projectId: user.projectId,
      projectName: user.projectName,
    },
    csrfToken: csrfTokenOf(secret),
  });
  const noStore = (ctx: Context) => ctx.set('Cache-Control', 'no-store');

  router.post('/auth/session', publicRoute, async (ctx) => {
    await services.limits.tokenRequest(ctx.ip);
    const body = bodyOf(ctx);
    const email = text(body, 'email', true) as string;
    const password = text(body, 'password', true) as string;
    // Guessing is counted per email (known or not: the answer must not tell) and per address.
    const who = { clientId: `user:${normalEmail(email)}`, address: ctx.ip };
    const emailKey = createHash('sha256').update(who.clientId).digest('base64url');
    if (
      (await failedTooOften(shared, who, REFUSE_AFTER)) ||
      (await shared.budget('sign-in-attempts', ATTEMPTS_PER_EMAIL, ATTEMPT_WINDOW_SECONDS).spend(emailKey)) !==
        undefined
    )
      throw new HookbotError('request.rate-limited', 'Too many failed sign-ins: wait 15 minutes', {
        headers: { 'Retry-After': '900' },
      });
    const user = await checkCredentials(db, email, password);
    if (!user) {
      await delayFailure(shared, who);
      throw unauthorized('auth.sign-in-failed', 'The email and password do not match a user');
    }
    const secret = await createSession(db, user.id);
    const session = await findSession(db, secret);
    if (!session) throw unauthorized('auth.invalid-session', 'The user was removed while signing in');
    setSessionCookie(ctx, cookies, secret);
    noStore(ctx);
    ctx.body = sessionBody(session.user, secret);
  });

  /** The caller's session, or 401: a bearer token is no session. */
  const sessionOf = (ctx: Context): { user: SessionUser; secret: string } => {
    const { user } = ctx.state.caller;
    const secret = sessionSecretOf(ctx);
    if (!user || !secret || ctx.get('authorization'))
      throw unauthorized('auth.no-session', 'No console session: sign in with POST /auth/session');
    return { user, secret };
  };

  router.get('/auth/session', async (ctx) => {
    const { user, secret } = sessionOf(ctx);
    noStore(ctx);
    ctx.body = sessionBody(user, secret);
  });

  router.delete('/auth/session', async (ctx) => {
    const { secret } = sessionOf(ctx);
    await revokeSession(db, secret);
    clearSessionCookie(ctx, cookies);
    ctx.status = 204;
  });

  router.post('/auth/invitations/accept', publicRoute, async (ctx) => {
    // Tokens are 256 random bits: the address's budget is enough against guessing.
    await services.limits.tokenRequest(ctx.ip);
    const body = bodyOf(ctx);
    const token = text(body, 'token', true) as string;
    const password = text(body, 'password', true) as string;
    const user = await acceptInvitation(db, token, password, text(body, 'name', false));
    ctx.status = 201;
    ctx.body = userView(user);
  });

  /** The project of the route, once the caller may manage its people. */
  const managedProject = async (ctx: Context): Promise<string> => {
    const projectId = ctx.params.id as string;
    if (!mayManage(ctx.state.caller, projectId))
      throw forbidden('auth.admin-only', "Managing a project's users needs one of its administrators");
    await requireProject(db, projectId);
    return projectId;
  };

  router.post('/admin/projects/:id/invitations', async (ctx) => {
    const projectId = await managedProject(ctx);
    const body = bodyOf(ctx);
    const email = normalEmail(text(body, 'email', true) as string);
    if (!isEmail(email)) throw badRequest('user.invalid-request', '"email" must be an email address', 'email');
    const role = body.role;
    if (!isUserRole(role))
      throw badRequest('user.invalid-request', `"role" must be one of ${USER_ROLES.join(', ')}`, 'role');
    const { caller } = ctx.state;
    const invitation = await createInvitation(db, {
      projectId,
      email,
      role,
      name: (text(body, 'name', false) ?? '').trim(),
      invitedBy: caller.user?.email ?? caller.clientId,
    });
    ctx.status = 201;
    noStore(ctx);
    // A fragment: never sent to the server, nor in a Referer.
    ctx.body = { ...invitation, url: `${config.baseUrl}/console/accept-invitation#token=${invitation.token}` };
  });

  router.get('/admin/projects/:id/users', async (ctx) => {
    ctx.body = { users: (await listUsers(db, await managedProject(ctx))).map(userView) };
  });

  router.delete('/admin/projects/:id/users/:userId', async (ctx) => {
    await removeUser(db, await managedProject(ctx), ctx.params.userId as string);
    ctx.status = 204;
  });

  return router;
}
