/**
 * OAuth 2.0 token endpoint logic (RFC 6749 §4.4 client credentials; client authentication by secret in the body
 * or HTTP Basic (§2.3.1), or by a signed JWT assertion, RFC 7523 / SMART Backend Services "private_key_jwt").
 * Takes the parsed form and Authorization header; returns the token response or throws a HookbotError carrying the
 * RFC 6749 §5.2 error code.
 */
import { errors as joseErrors, jwtVerify, decodeJwt } from 'jose';
import { HookbotError, type ErrorCode, type OAuthErrorCode } from '../infra/errors.js';
import type { Database } from '../infra/database.js';
import type { OutboundPolicy } from '../infra/outbound-url.js';
import type { SharedState } from '../infra/shared-state.js';
import { findClient, type ClientRecord } from './clients.js';
import { signAccessToken } from './access-token.js';
import type { ClientKeyCache } from './client-keys.js';
import { CDS_HOOKS_SCOPE, registeredScope } from './roles.js';
import { parseScopes, scopeCovers } from './scopes.js';
import { verifySecret, type Kdf } from './secrets.js';
import type { SigningKey } from './signing-keys.js';
import { delayAfterFailures, recordFailure, type Sleep } from './token-failures.js';

const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ASSERTION_ALGS = ['RS384', 'ES384', 'RS256', 'ES256', 'PS384', 'EdDSA'];
const ASSERTION_MAX_LIFETIME_SECONDS = 300;
const ASSERTION_SKEW_SECONDS = 60;

export interface TokenRequest {
  form: Record<string, unknown>;
  authorization?: string;
  /** The caller's address: failed attempts are slowed down per address as well as per client id. */
  address?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

export interface TokenDeps {
  db: Database;
  key: SigningKey;
  issuer: string;
  tokenUrl: string;
  ttlSeconds: number;
  clientKeys: ClientKeyCache;
  shared: SharedState;
  outbound: OutboundPolicy;
  /** Secret hashing and waiting, replaceable in tests. */
  kdf?: Kdf;
  sleep?: Sleep;
}

const OAUTH_ERRORS: Record<OAuthErrorCode, ErrorCode> = {
  invalid_request: 'oauth.invalid-request',
  invalid_client: 'oauth.invalid-client',
  invalid_grant: 'oauth.invalid-grant',
  unsupported_grant_type: 'oauth.unsupported-grant-type',
  invalid_scope: 'oauth.invalid-scope',
};

const oauthError = (code: OAuthErrorCode, description: string, headers?: Record<string, string>) =>
  new HookbotError(OAUTH_ERRORS[code], description, { oauthError: code, headers });

const param = (form: Record<string, unknown>, name: string): string | undefined => {
  const value = form[name];
  if (Array.isArray(value)) throw oauthError('invalid_request', `Parameter "${name}" is repeated`);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

interface Presented {
  clientId: string;
  secret?: string;
  assertion?: string;
  basic: boolean;
}

function presentedCredentials(req: TokenRequest): Presented {
  const form = req.form;
  const bodyId = param(form, 'client_id');
  const bodySecret = param(form, 'client_secret');
  const assertion = param(form, 'client_assertion');
  const assertionType = param(form, 'client_assertion_type');
  const auth = req.authorization ?? '';
  if (/^basic /i.test(auth)) {
    if (bodySecret || assertion) throw oauthError('invalid_request', 'Use one client authentication method only');
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0)
      throw oauthError('invalid_client', 'Malformed HTTP Basic credentials', {
        'WWW-Authenticate': 'Basic realm="hookbot"',
      });
    let id: string;
    let secret: string;
    try {
      id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    } catch {
      throw oauthError('invalid_client', 'Malformed HTTP Basic credentials', {
        'WWW-Authenticate': 'Basic realm="hookbot"',
      });
    }
    return { clientId: id, secret, basic: true };
  }
  if (assertion || assertionType) {
    if (bodySecret) throw oauthError('invalid_request', 'Use one client authentication method only');
    if (assertionType !== JWT_BEARER_ASSERTION) {
      throw oauthError('invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
    }
    if (!assertion) throw oauthError('invalid_request', 'client_assertion is required');
    let sub: unknown;
    try {
      sub = decodeJwt(assertion).sub;
    } catch {
      throw oauthError('invalid_client', 'client_assertion is not a JWT');
    }
    if (typeof sub !== 'string' || (bodyId && bodyId !== sub)) {
      throw oauthError('invalid_client', 'client_assertion "sub" must be the client_id');
    }
    return { clientId: sub, assertion, basic: false };
  }
  if (!bodyId)
    throw oauthError('invalid_client', 'Client authentication is required', {
      'WWW-Authenticate': 'Basic realm="hookbot"',
    });
  return { clientId: bodyId, ...(bodySecret ? { secret: bodySecret } : {}), basic: false };
}

/**
 * SMART Backend Services: `exp` no more than five minutes in the future; an `iat`, when sent, not in the future
 * (both with the clock skew). Returns how long the `jti` must be kept: until jose stops accepting the assertion.
 */
function assertionReplayWindow(iat: number | undefined, exp: number): number {
  const now = Math.floor(Date.now() / 1000);
  if (iat !== undefined && iat > now + ASSERTION_SKEW_SECONDS) {
    throw oauthError('invalid_client', 'client_assertion iat is in the future');
  }
  if (exp > now + ASSERTION_MAX_LIFETIME_SECONDS + ASSERTION_SKEW_SECONDS) {
    throw oauthError('invalid_client', 'client_assertion exp must be at most 5 minutes in the future');
  }
  return exp - now + ASSERTION_SKEW_SECONDS;
}

async function authenticate(presented: Presented, deps: TokenDeps): Promise<ClientRecord> {
  const failed = () =>
    oauthError(
      'invalid_client',
      'Client authentication failed',
      presented.basic ? { 'WWW-Authenticate': 'Basic realm="hookbot"' } : {},
    );
  const client = await findClient(deps.db, presented.clientId);
  if (presented.assertion) {
    if (!client) throw failed();
    const resolver = await deps.clientKeys.resolverFor(client, deps.outbound);
    if (!resolver) throw failed();
    try {
      const { payload } = await jwtVerify(presented.assertion, resolver, {
        issuer: client.id,
        subject: client.id,
        audience: [deps.tokenUrl, deps.issuer],
        algorithms: ASSERTION_ALGS,
        clockTolerance: ASSERTION_SKEW_SECONDS,
        // SMART requires no iat; jose checks it is a number when present.
        requiredClaims: ['exp', 'jti'],
      });
      const ttl = assertionReplayWindow(payload.iat, payload.exp as number);
      // SMART Backend Services: the jti must not be reused while the assertion is valid.
      if (!(await deps.shared.setOnce(`assertion-jti:${client.id}:${payload.jti}`, ttl))) {
        throw oauthError('invalid_client', 'client_assertion jti was already used');
      }
    } catch (err) {
      if (err instanceof HookbotError) throw err;
      if (err instanceof joseErrors.JOSEError)
        throw oauthError('invalid_client', `client_assertion rejected: ${err.message}`);
      throw err;
    }
    return client;
  }
  // The same scrypt work for an unknown id, a client without a secret and a wrong secret: timing tells them apart
  // from nothing.
  const matches = await verifySecret(presented.secret ?? '', client?.secretHash, deps.kdf);
  if (!client || !presented.secret || !matches) throw failed();
  return client;
}

/**
 * The scope a token gets: what the client was registered for (within its role) when it asks for none, else what it
 * asks for, each scope covered by its registration; anything more is `invalid_scope` (RFC 6749 §5.2).
 */
function grantedScope(client: ClientRecord, requested: string | undefined): string {
  const registered = registeredScope(client.role, client.scope);
  if (!requested) return registered;
  const allowed = parseScopes(registered);
  const wanted = parseScopes(requested);
  const unknown = wanted.other.find((raw) => raw !== CDS_HOOKS_SCOPE);
  if (unknown !== undefined) throw oauthError('invalid_scope', `Unknown scope "${unknown}"`);
  const withQuery = wanted.scopes.find((s) => s.query);
  if (withQuery)
    throw oauthError('invalid_scope', `Scope "${withQuery.raw}": query-restricted scopes are not supported here`);
  const notGranted =
    wanted.scopes.find((scope) => !allowed.scopes.some((g) => scopeCovers(g, scope)))?.raw ??
    wanted.other.find((raw) => !allowed.other.includes(raw));
  if (notGranted !== undefined) {
    throw oauthError('invalid_scope', `Scope "${notGranted}" is not granted to this client`);
  }
  return [...new Set(requested.split(/\s+/).filter(Boolean))].join(' ');
}

export async function issueToken(req: TokenRequest, deps: TokenDeps): Promise<TokenResponse> {
  const grantType = param(req.form, 'grant_type');
  if (!grantType) throw oauthError('invalid_request', 'grant_type is required');
  if (grantType === 'authorization_code' || grantType === 'refresh_token') {
    // Hookbot issues neither codes nor refresh tokens, so any presented is not a grant it issued.
    throw oauthError('invalid_grant', `This server issued no ${grantType.replace('_', ' ')}; use client_credentials`);
  }
  if (grantType !== 'client_credentials') {
    throw oauthError('unsupported_grant_type', `grant_type "${grantType}" is not supported; use client_credentials`);
  }
  const presented = presentedCredentials(req);
  const who = { clientId: presented.clientId, ...(req.address ? { address: req.address } : {}) };
  let client: ClientRecord;
  try {
    client = await authenticate(presented, deps);
  } catch (err) {
    if (err instanceof HookbotError && err.oauthError === 'invalid_client') {
      // Only a failure waits: delaying every attempt would let anyone who knows a client id slow its owner down.
      await delayAfterFailures(deps.shared, who, deps.sleep);
      await recordFailure(deps.shared, who);
    }
    throw err;
  }
  const scope = grantedScope(client, param(req.form, 'scope'));
  const accessToken = await signAccessToken(
    deps.key,
    deps.issuer,
    {
      clientId: client.id,
      ...(client.projectId ? { projectId: client.projectId } : {}),
      admin: client.isAdmin,
      role: client.role,
      scope,
    },
    deps.ttlSeconds,
  );
  return { access_token: accessToken, token_type: 'Bearer', expires_in: deps.ttlSeconds, scope };
}
