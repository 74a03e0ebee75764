/** Bearer-token authentication for Hookbot's own API (FHIR, admin); `route-access.ts` decides where it applies. */
import type { IncomingMessage } from 'node:http';
import type { Context, Middleware } from 'koa';
import { forbidden, unauthorized } from '../infra/errors.js';
import type { Services } from '../services.js';
import { verifyAccessToken, type Caller } from './access-token.js';
import { sessionCaller } from '../users/sessions.js';
import { presentedCertificate } from './client-certificate.js';

/** Headers a caller might use to pick a tenant. The tenant always comes from the token, so they are dropped. */
const TENANT_HEADERS = ['x-tenant-id', 'x-project-id', 'x-hookbot-project', 'x-medplum-project', 'x-optum-tenant-id'];

export const stripTenantHeaders: Middleware = async (ctx, next) => {
  for (const name of TENANT_HEADERS) delete ctx.request.headers[name];
  await next();
};

/** The token of an `Authorization: Bearer …` header value. */
export function bearerTokenOf(header: string): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

function bearerToken(ctx: Context): string | undefined {
  return bearerTokenOf(ctx.get('authorization'));
}

/**
 * The caller of an access token presented on `req`: valid, unrevoked and, when the token is certificate-bound (RFC
 * 8705 §3), presented over a connection with that certificate (none without `req`). Checked on every request: the
 * verified-token cache remembers tokens, never connections. A plain token costs nothing more.
 */
export async function callerOfToken(services: Services, token: string, req?: IncomingMessage): Promise<Caller> {
  const caller = await verifyAccessToken(services.key, services.config.baseUrl, token, services.shared);
  if (
    caller.certThumbprint !== undefined &&
    (!req || presentedCertificate(req, services.config)?.thumbprint !== caller.certThumbprint)
  ) {
    throw unauthorized(
      'auth.certificate-mismatch',
      'This access token is bound to a client certificate (RFC 8705): call over mutual TLS with that certificate',
      { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="certificate mismatch"' },
    );
  }
  return caller;
}

/** The caller of the request's bearer token; without one, of its console session cookie (`users/sessions.ts`). */
export async function callerFromRequest(ctx: Context, services: Services): Promise<Caller> {
  const token = bearerToken(ctx);
  if (token) return callerOfToken(services, token, ctx.req);
  const user = await sessionCaller(services.db, ctx);
  if (user) return user;
  throw unauthorized('auth.missing-token', 'Missing bearer token: get one from POST /oauth2/token');
}

export function requireAdmin(): Middleware {
  return async (ctx, next) => {
    if (!ctx.state.caller?.admin) throw forbidden('auth.admin-only', 'This operation needs a super-admin token');
    await next();
  };
}

/** The caller's project, or 403 for tokens that carry none (the super-admin's). */
export function callerProject(caller: Caller): string {
  if (!caller.projectId)
    throw forbidden('auth.no-project', 'This token belongs to no project: use a project client to call the API');
  return caller.projectId;
}
