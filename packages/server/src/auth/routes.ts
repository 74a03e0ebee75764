/** `/oauth2/token`, `/auth/me` and the discovery documents (`/.well-known/jwks.json`, SMART configuration). */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { createRouter, publicRoute } from '../infra/router.js';
import type { Services } from '../services.js';
import { issueToken } from './issue-token.js';
import { jwks } from './signing-keys.js';
import { smartConfigurationOf } from './smart-configuration.js';

export function authRouter(services: Services): Router {
  const { config } = services;
  const router = createRouter();

  router.post(
    '/oauth2/token',
    publicRoute,
    async (ctx, next) => {
      await services.limits.tokenRequest(ctx.ip);
      await next();
    },
    async (ctx) => {
      ctx.body = await issueToken(
        {
          form: (ctx.request.body ?? {}) as Record<string, unknown>,
          authorization: ctx.get('authorization') || undefined,
          address: ctx.ip,
        },
        {
          db: services.db,
          key: services.key,
          issuer: config.baseUrl,
          tokenUrl: `${config.baseUrl}/oauth2/token`,
          ttlSeconds: config.accessTokenTtlSeconds,
          clientKeys: services.clientKeys,
          shared: services.shared,
          outbound: { development: config.development },
        },
      );
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Pragma', 'no-cache');
    },
  );

  router.get('/auth/me', (ctx) => {
    const { clientId, projectId, role, scope, admin } = ctx.state.caller;
    ctx.body = { clientId, ...(projectId ? { projectId } : {}), role, scope, admin };
  });

  router.get('/.well-known/jwks.json', publicRoute, (ctx) => {
    ctx.body = jwks(services.key);
    ctx.set('Cache-Control', 'public, max-age=300');
  });

  // SMART clients (fhirclient among them) fetch the document under the FHIR base; others at the server root.
  const smartConfiguration = (ctx: Context) => {
    ctx.body = smartConfigurationOf(config.baseUrl);
  };
  router.get('/.well-known/smart-configuration', publicRoute, smartConfiguration);
  router.get('/fhir/R4/.well-known/smart-configuration', publicRoute, smartConfiguration);

  return router;
}
