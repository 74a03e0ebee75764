/**
 * Authentication is decided per route and fails closed: every request needs a Hookbot access token unless the
 * route it reaches declares otherwise (markers in `infra/router.ts`): `publicRoute` (no caller at all: health, the
 * discovery documents, the token endpoint) or `ownAuthentication` (the route authenticates and rate-limits its
 * caller itself: CDS Hooks, whose clients may send a client JWT instead of an access token). The route is found by
 * asking the app's own routers, so the handler that runs is the one whose declaration was read; a path that
 * reaches no route still needs a token (and then answers 404).
 */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { forbidden } from '../infra/errors.js';
import { ownAuthentication, publicRoute } from '../infra/router.js';
import type { Services } from '../services.js';
import type { Caller } from './access-token.js';
import { callerFromRequest } from './middleware.js';
import { userMayCall } from './user-roles.js';

export type RouteAccess = 'public' | 'own' | 'caller';

/**
 * What the first route handler a request reaches declares: that handler runs first (router-level middleware
 * aside), and a handler that declares itself public answers without calling on.
 */
export function routeAccess(routers: readonly Router[], path: string, method: string): RouteAccess {
  return routeOf(routers, path, method).access;
}

/** The access of the route a request reaches, and its pattern (`/fhir/R4/:type`); none when it reaches no route. */
export function routeOf(
  routers: readonly Router[],
  path: string,
  method: string,
): { access: RouteAccess; pattern?: string } {
  for (const router of routers) {
    const matched = router.match(path, method);
    if (!matched.route) continue;
    const first = matched.pathAndMethod.find((layer) => layer.methods.length > 0);
    const pattern = typeof first?.path === 'string' ? { pattern: first.path } : {};
    if (first?.stack.includes(publicRoute)) return { access: 'public', ...pattern };
    if (first?.stack.includes(ownAuthentication)) return { access: 'own', ...pattern };
    return { access: 'caller', ...pattern };
  }
  return { access: 'caller' };
}

/**
 * A console user may call only the routes their role lists (`user-roles.ts`), whatever lies below: fail-closed, so
 * a route nobody classified is refused to sessions. A path that reaches no route answers 404 as for anyone.
 */
function checkUserRoute(caller: Caller, method: string, pattern: string | undefined): void {
  if (!caller.user || pattern === undefined) return;
  if (!userMayCall(caller.user.role, method, pattern))
    throw forbidden(
      'auth.user-role-not-allowed',
      `A user with role "${caller.user.role}" may not call ${method} ${pattern}`,
    );
}

/** Puts the verified caller on `ctx.state.caller` (401 without a valid token) and counts it against its limit. */
export function authenticateRoutes(routers: readonly Router[], services: Services): Middleware {
  return async (ctx, next) => {
    const { access, pattern } = routeOf(routers, ctx.path, ctx.method);
    if (access === 'caller') {
      const caller = await callerFromRequest(ctx, services);
      checkUserRoute(caller, ctx.method, pattern);
      ctx.state.caller = caller;
      await services.limits.perClient(caller.clientId, caller.projectId);
    }
    ctx.state.ownAuthentication = access === 'own';
    await next();
  };
}
