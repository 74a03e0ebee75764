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
import { ownAuthentication, publicRoute } from '../infra/router.js';
import type { Services } from '../services.js';
import { callerFromRequest } from './middleware.js';

export type RouteAccess = 'public' | 'own' | 'caller';

/**
 * What the first route handler a request reaches declares: that handler runs first (router-level middleware
 * aside), and a handler that declares itself public answers without calling on.
 */
export function routeAccess(routers: readonly Router[], path: string, method: string): RouteAccess {
  for (const router of routers) {
    const matched = router.match(path, method);
    if (!matched.route) continue;
    const first = matched.pathAndMethod.find((layer) => layer.methods.length > 0);
    if (first?.stack.includes(publicRoute)) return 'public';
    if (first?.stack.includes(ownAuthentication)) return 'own';
    return 'caller';
  }
  return 'caller';
}

/** Puts the verified caller on `ctx.state.caller` (401 without a valid token) and counts it against its limit. */
export function authenticateRoutes(routers: readonly Router[], services: Services): Middleware {
  return async (ctx, next) => {
    const access = routeAccess(routers, ctx.path, ctx.method);
    if (access === 'caller') {
      const caller = await callerFromRequest(ctx, services);
      ctx.state.caller = caller;
      await services.limits.perClient(caller.clientId, caller.projectId);
    }
    ctx.state.ownAuthentication = access === 'own';
    await next();
  };
}
