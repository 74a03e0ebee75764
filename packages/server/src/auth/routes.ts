/**
 * The OAuth endpoints (token, introspection, revocation), `/auth/me` and the discovery documents
 * (`/.well-known/jwks.json`, SMART and OpenID configuration). The authorization endpoint is `member-login/`'s.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { createRouter, publicRoute } from '../infra/router.js';
import type { Services } from '../services.js';
import { presentedCertificate } from './client-certificate.js';
import { introspectToken } from './introspect-token.js';
import { issueToken } from './issue-token.js';
import { revokeToken } from './revoke-token.js';
import { sessionOf } from './session.js';
import { openidConfigurationOf, smartConfigurationOf } from './smart-configuration.js';

export function authRouter(services: Services): Router {
  const { config } = services;
  const router = createRouter();

  const clientAuth = {
    db: services.db,
    key: services.key,
    issuer: config.baseUrl,
    tokenUrl: `${config.baseUrl}/oauth2/token`,
    ...(config.tls ? { mtlsTokenUrl: `${config.tls.baseUrl}/oauth2/token` } : {}),
    clientKeys: services.clientKeys,
    shared: services.shared,
    outbound: { development: config.development },
  };
  const oauthRequest = (ctx: Context) => ({
    form: (ctx.request.body ?? {}) as Record<string, unknown>,
    authorization: ctx.get('authorization') || undefined,
    address: ctx.ip,
    certificate: presentedCertificate(ctx.req, config),
  });
  // The OAuth endpoints authenticate their clients themselves, within the token endpoint's budget per address.
  const oauthRoute = (path: string, handler: (ctx: Context) => Promise<void>) =>
    router.post(
      path,
      publicRoute,
      async (ctx, next) => {
        await services.limits.tokenRequest(ctx.ip);
        await next();
      },
      async (ctx) => {
        await handler(ctx);
        ctx.set('Cache-Control', 'no-store');
        ctx.set('Pragma', 'no-cache');
      },
    );

  oauthRoute('/oauth2/token', async (ctx) => {
    ctx.body = await issueToken(oauthRequest(ctx), {
      ...clientAuth,
      ttlSeconds: config.accessTokenTtlSeconds,
      fhirBase: `${config.baseUrl}/fhir/R4`,
      limits: services.limits,
    });
  });
  oauthRoute('/oauth2/introspect', async (ctx) => {
    ctx.body = await introspectToken(oauthRequest(ctx), clientAuth);
  });
  oauthRoute('/oauth2/revoke', async (ctx) => {
    await revokeToken(oauthRequest(ctx), clientAuth);
    ctx.status = 200;
    ctx.body = {};
  });

  router.get('/auth/me', async (ctx) => {
    ctx.body = await sessionOf(services.db, ctx.state.caller);
  });

  router.get('/.well-known/jwks.json', publicRoute, (ctx) => {
    ctx.body = services.key.jwks();
    ctx.set('Cache-Control', 'public, max-age=300');
  });

  // SMART clients (fhirclient among them) fetch the document under the FHIR base; others at the server root.
  const smartConfiguration = (ctx: Context) => {
    ctx.body = smartConfigurationOf(config);
  };
  router.get('/.well-known/smart-configuration', publicRoute, smartConfiguration);
  router.get('/fhir/R4/.well-known/smart-configuration', publicRoute, smartConfiguration);
  router.get('/.well-known/openid-configuration', publicRoute, (ctx) => {
    ctx.body = openidConfigurationOf(config.baseUrl);
  });

  return router;
}
