/**
 * OAuth 2.0 token endpoint logic: RFC 6749 §4.4 client credentials here, and a member app's authorization code and
 * refresh token grants (`member-token.ts`); the client authenticates as `client-authentication.ts` describes. Takes the parsed form and Authorization header; returns the token response or
 * throws a HookbotError carrying the RFC 6749 §5.2 error code.
 */
import type { ClientRecord } from './clients.js';
import { signAccessToken } from './access-token.js';
import { authenticateClient, formParam as param, oauthError, type ClientAuthRequest } from './client-authentication.js';
import {
  authorizationCodeGrant,
  refreshTokenGrant,
  type MemberTokenDeps,
  type MemberTokenResponse,
} from './member-token.js';
import { CDS_HOOKS_SCOPE, registeredScope } from './roles.js';
import { parseScopes, scopeCovers } from './scopes.js';
import type { RateLimits } from '../infra/rate-limit.js';

export type TokenRequest = ClientAuthRequest;

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  /** Who the token speaks for and its project, as Medplum's clients read them from a token response. */
  profile: { reference: string };
  project?: { reference: string };
}

export interface TokenDeps extends MemberTokenDeps {
  /** The client's project's token budget, once the client is known (`infra/rate-limit.ts`). */
  limits?: Pick<RateLimits, 'tokenPerClient'>;
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

export async function issueToken(req: TokenRequest, deps: TokenDeps): Promise<TokenResponse | MemberTokenResponse> {
  const grantType = param(req.form, 'grant_type');
  if (!grantType) throw oauthError('invalid_request', 'grant_type is required');
  if (grantType === 'authorization_code') return authorizationCodeGrant(req, deps);
  if (grantType === 'refresh_token') return refreshTokenGrant(req, deps);
  if (grantType !== 'client_credentials') {
    throw oauthError(
      'unsupported_grant_type',
      `grant_type "${grantType}" is not supported; use client_credentials, authorization_code or refresh_token`,
    );
  }
  const client = await authenticateClient(req, deps);
  // A member app acts for a member, who signs in: it has no access of its own.
  if (client.role === 'member-app')
    throw oauthError(
      'unauthorized_client',
      'A member app gets tokens through a member authorization (authorization_code)',
    );
  await deps.limits?.tokenPerClient(client.id, client.projectId);
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
      ...(client.mtlsThumbprint ? { certThumbprint: client.mtlsThumbprint } : {}),
      generation: client.generation,
    },
    deps.ttlSeconds,
  );
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: deps.ttlSeconds,
    scope,
    profile: { reference: `ClientApplication/${client.id}` },
    ...(client.projectId ? { project: { reference: `Project/${client.projectId}` } } : {}),
  };
}
