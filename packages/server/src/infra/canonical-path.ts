/**
 * Paths are routed only in their one canonical spelling. A doubled slash, a `.` or `..` segment, or a
 * percent-encoded character that needs no encoding (letters, digits, `-._~`, and `/`) answers 404 before routing,
 * so no spelling of a path can reach a route that another spelling of it would not.
 */
import type { Middleware } from 'koa';
import { HookbotError } from './errors.js';

const UNRESERVED = /^[A-Za-z0-9\-._~/]$/;

export function isCanonicalPath(path: string): boolean {
  if (!path.startsWith('/') || path.includes('//')) return false;
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) return false;
  for (const [escape] of path.matchAll(/%[0-9A-Fa-f]{2}/g)) {
    if (UNRESERVED.test(String.fromCharCode(parseInt(escape.slice(1), 16)))) return false;
  }
  return true;
}

export const canonicalPath: Middleware = async (ctx, next) => {
  if (!isCanonicalPath(ctx.path)) throw new HookbotError('route.not-found', `No route for ${ctx.method} ${ctx.path}`);
  await next();
};
