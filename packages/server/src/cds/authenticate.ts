/**
 * Who is calling a `/cds-services` route: a Hookbot access token, or a CDS Hooks client JWT (CDS Hooks 2.0
 * "Trusting CDS Clients"): header `alg` (asymmetric only), `kid`, `typ`, optional `jku`; claims `iss`, `aud` (the
 * exact URL called), `exp`, `iat`, `jti`, optional `tenant`. The EHR is a registered client of one project with
 * its `iss` and a JWKS or JWKS URL; a `jku` is honoured only when it is that registered URL. CDS Hooks sets no
 * maximum lifetime, so the server does (`HOOKBOT_CDS_JWT_MAX_LIFETIME`): `exp` at most that long after `iat` and
 * after now, `iat` not in the future (both with the clock skew). A `jti` is accepted once, and remembered until the
 * JWT expires, so replay markers never outlive the bounded lifetime.
 */
import type { IncomingMessage } from 'node:http';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { verifiedAccessToken, type Caller } from '../auth/access-token.js';
import { bearerTokenOf, callerOfToken } from '../auth/middleware.js';
import { CDS_HOOKS_SCOPE, mayCallCds } from '../auth/roles.js';
import { HookbotError, type ErrorCode } from '../infra/errors.js';
import type { Services } from '../services.js';

const CDS_JWT_ALGS = ['ES384', 'RS384', 'ES256', 'RS256', 'PS384', 'ES512', 'RS512', 'EdDSA'];
const CLOCK_SKEW_SECONDS = 60;

export interface CdsCaller {
  projectId: string;
  clientId: string;
  via: 'access-token' | 'client-jwt';
}

const refused = (message: string, code: ErrorCode = 'auth.invalid-client-jwt') =>
  new HookbotError(code, message, {
    headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${message.replace(/"/g, "'")}"` },
  });

/** The audience check is exact up to a trailing slash (clients differ on it). */
function audienceMatches(aud: unknown, url: string): boolean {
  const norm = (u: string) => u.replace(/\/+$/, '');
  const target = norm(url);
  const list = Array.isArray(aud) ? aud : [aud];
  return list.some((a) => typeof a === 'string' && norm(a) === target);
}

/**
 * Refuses a JWT issued in the future or living longer than `maxLifetime`; returns how long its `jti` must be kept:
 * until jose stops accepting the JWT (`exp` plus the skew).
 */
function checkLifetime(iat: number, exp: number, now: number, maxLifetime: number): number {
  if (iat > now + CLOCK_SKEW_SECONDS) throw refused('JWT iat is in the future');
  if (exp - iat > maxLifetime || exp > now + maxLifetime + CLOCK_SKEW_SECONDS) {
    throw refused(`JWT lifetime exceeds ${maxLifetime} s: exp must be at most that long after iat`);
  }
  return exp - now + CLOCK_SKEW_SECONDS;
}

async function verifyClientJwt(
  services: Services,
  token: string,
  claims: ReturnType<typeof decodeJwt>,
  calledUrl: string,
): Promise<CdsCaller> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw refused('The bearer token is not a JWT');
  }
  if (!header.alg || !CDS_JWT_ALGS.includes(header.alg)) {
    throw refused(`JWT alg "${header.alg ?? ''}" is not accepted: use an asymmetric algorithm such as ES384 or RS384`);
  }
  if (typeof claims.iss !== 'string') throw refused('JWT has no iss');
  // Only clients whose role and registered scope allow calling CDS services (filtered once, when cached).
  const clients = await services.issuers.clientsFor(claims.iss);
  // One answer for an unknown issuer, a missing and a wrong tenant: nothing to learn about who is registered where.
  const client =
    clients.length > 1 && typeof claims.tenant !== 'string'
      ? undefined
      : clients.find((c) => claims.tenant === undefined || claims.tenant === c.projectId);
  if (!client?.projectId) {
    throw refused(
      'No client is registered for this issuer and tenant (send a "tenant" claim when the issuer serves several projects)',
    );
  }
  if (header.jku !== undefined && header.jku !== client.jwksUri) {
    throw refused('JWT jku is not the JWKS URL registered for this client');
  }
  const { allowedBaseUrls } = await services.settings.get(client.projectId);
  const resolver = await services.clientKeys.resolverFor(client, {
    development: services.config.development,
    allowedBaseUrls,
  });
  if (!resolver) throw refused('No keys are registered for this client');
  try {
    const { payload } = await jwtVerify(token, resolver, {
      issuer: client.issuer as string,
      algorithms: CDS_JWT_ALGS,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp', 'iat', 'jti'],
    });
    if (!audienceMatches(payload.aud, calledUrl)) throw refused(`JWT aud must be ${calledUrl}`);
    const now = Math.floor(Date.now() / 1000);
    const ttl = checkLifetime(
      payload.iat as number,
      payload.exp as number,
      now,
      services.config.cdsJwtMaxLifetimeSeconds,
    );
    if (!(await services.shared.setOnce(`cds-jti:${client.issuer}:${payload.jti}`, ttl))) {
      throw refused('JWT jti was already used', 'auth.replayed-client-jwt');
    }
  } catch (err) {
    if (err instanceof HookbotError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw refused('JWT expired', 'auth.expired-client-jwt');
    if (err instanceof joseErrors.JWKSNoMatchingKey) throw refused(`No key matches kid "${header.kid ?? ''}"`);
    if (err instanceof joseErrors.JOSEError) throw refused(`JWT rejected: ${err.message}`);
    throw err;
  }
  return { projectId: client.projectId, clientId: client.id, via: 'client-jwt' };
}

/** `req`: the request, for the client certificate a certificate-bound access token needs. */
export async function authenticateCdsCaller(
  services: Services,
  authorization: string,
  calledUrl: string,
  req?: IncomingMessage,
): Promise<CdsCaller> {
  const token = bearerTokenOf(authorization);
  if (!token)
    throw refused('Missing bearer token: send a Hookbot access token or a CDS Hooks client JWT', 'auth.missing-token');
  if (verifiedAccessToken(services.key, token)) return accessTokenCaller(await callerOfToken(services, token, req));
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(token);
  } catch {
    throw refused('The bearer token is not a JWT');
  }
  if (claims.iss === services.config.baseUrl) return accessTokenCaller(await callerOfToken(services, token, req));
  return verifyClientJwt(services, token, claims, calledUrl);
}

function accessTokenCaller(caller: Caller): CdsCaller {
  if (!caller.projectId) throw new HookbotError('auth.no-project', 'This token belongs to no project');
  if (!mayCallCds(caller.role, caller.scopes)) {
    throw new HookbotError(
      'auth.forbidden-scope',
      `Calling CDS services needs the ${CDS_HOOKS_SCOPE} scope (or, for administrators and bot developers, read access to Bot)`,
    );
  }
  return { projectId: caller.projectId, clientId: caller.clientId, via: 'access-token' };
}
