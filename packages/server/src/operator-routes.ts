/**
 * What operators and orchestrators call: liveness (`/livez`: the process answers), readiness (`/readyz`: send it
 * traffic, see `infra/readiness.ts`) and Prometheus metrics (`/metrics`). The probes are public and say nothing
 * beyond their status; the metrics are served only when `HOOKBOT_METRICS_TOKEN` is set, to that bearer token alone
 * (without it every request is refused, as a wrong token is).
 */
import type Router from '@koa/router';
import { unauthorized } from './infra/errors.js';
import { presentsToken } from './infra/metrics.js';
import { notReadyBecause } from './infra/readiness.js';
import { ownAuthentication, publicRoute } from './infra/router.js';
import type { Services } from './services.js';

export function operatorRoutes(router: Router, services: Services): void {
  router.get('/livez', publicRoute, (ctx) => {
    ctx.body = { ok: true };
  });

  router.get('/readyz', publicRoute, async (ctx) => {
    const reason = await notReadyBecause(services);
    if (reason) services.log.warn({ reason }, 'not ready');
    ctx.status = reason ? 503 : 200;
    ctx.body = { ok: !reason };
  });

  // Not a Hookbot access token: a scraper is no client of any project, and its secret opens nothing else.
  router.get('/metrics', ownAuthentication, async (ctx) => {
    const token = services.config.metricsToken;
    const authorization = ctx.get('Authorization');
    if (!authorization) throw unauthorized('auth.missing-token', 'Missing bearer token: the metrics token');
    if (!token || !presentsToken(authorization, token))
      throw unauthorized('auth.invalid-token', 'Not the metrics token');
    ctx.type = services.metrics.registry.contentType;
    ctx.body = await services.metrics.text();
  });
}
