/** Bearer-token authentication for Hookbot's own API (FHIR, admin); `route-access.ts` decides where it applies. */
import type { Context, Middleware } from 'koa';
import { forbidden, unauthorized } from '../infra/errors.js';
import type { Services } from '../services.js';
import { verifyAccessToken, type Caller } from './access-token.js';

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

export async function callerFromRequest(ctx: Context, services: Services): Promise<Caller> {
  const token = bearerToken(ctx);
  if (!token) throw unauthorized('auth.missing-token', 'Missing bearer token: get one from POST /oauth2/token');
  return verifyAccessToken(services.key, services.config.baseUrl, token, services.shared);
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
