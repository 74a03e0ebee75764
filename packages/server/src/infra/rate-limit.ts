/** A fixed-window request budget per client (or per address for anonymous calls), shared through Redis. */
import type { Middleware } from 'koa';
import { HookbotError } from './errors.js';
import type { SharedState } from './shared-state.js';

export function rateLimit(
  shared: SharedState,
  perMinute: number,
  keyOf: (ctx: Parameters<Middleware>[0]) => string,
): Middleware {
  return async (ctx, next) => {
    if (perMinute > 0) {
      const window = Math.floor(Date.now() / 60_000);
      const count = await shared.increment(`rate:${keyOf(ctx)}:${window}`, 61);
      if (count > perMinute) {
        const retryAfter = String(60 - Math.floor((Date.now() / 1000) % 60));
        throw new HookbotError(429, 'throttled', `Rate limit of ${perMinute} requests per minute exceeded`, {
          headers: { 'Retry-After': retryAfter },
        });
      }
    }
    await next();
  };
}
