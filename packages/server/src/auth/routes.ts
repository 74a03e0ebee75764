/** `/oauth2/token` and the public key set at `/.well-known/jwks.json`. */
import type Router from '@koa/router';
import { createRouter, publicRoute } from '../infra/router.js';
import type { Services } from '../services.js';
import { issueToken } from './issue-token.js';
import { CDS_HOOKS_SCOPE } from './roles.js';
import { jwks } from './signing-keys.js';

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

  router.get('/.well-known/smart-configuration', publicRoute, (ctx) => {
    ctx.body = {
      issuer: config.baseUrl,
      jwks_uri: `${config.baseUrl}/.well-known/jwks.json`,
      token_endpoint: `${config.baseUrl}/oauth2/token`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
      scopes_supported: ['system/*.cruds', 'system/*.rs', 'system/*.read', 'system/*.write', CDS_HOOKS_SCOPE],
      capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
    };
  });

  return router;
}
