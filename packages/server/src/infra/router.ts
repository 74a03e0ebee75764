/**
 * Every router of the server matches one way: case-sensitively and strictly (`/admin/projects/` is not
 * `/admin/projects`), so a path is either exactly a route or no route at all. Authentication asks the same routers
 * which route a request reaches (`auth/route-access.ts`), so routing and authentication cannot disagree.
 */
import Router from '@koa/router';

export function createRouter(prefix?: string) {
  return new Router({ sensitive: true, strict: true, ...(prefix ? { prefix } : {}) });
}

/** Marks a route that anyone may call. It must answer without calling on to another route's handler. */
export const publicRoute = (_ctx: unknown, next: () => Promise<unknown>) => next();

/**
 * Marks a route that authenticates (and rate-limits) its caller itself. The app leaves the body to it: the route
 * parses it (`infra/body.ts`) only once the caller is known, so an unauthenticated request costs no parsing.
 */
export const ownAuthentication = (_ctx: unknown, next: () => Promise<unknown>) => next();
