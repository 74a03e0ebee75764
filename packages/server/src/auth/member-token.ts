/**
 * The token endpoint's member-app grants: `authorization_code` (RFC 6749 §4.1.3 with PKCE, RFC 7636 §4.6) and
 * `refresh_token` (§6, rotated on every use). A public app names itself with `client_id`; a confidential one
 * authenticates as every client does (`client-authentication.ts`). The answer carries the member's `patient`, an
 * OpenID Connect `id_token` when `openid` was granted, and a refresh token when `offline_access` was.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { signAccessToken } from './access-token.js';
import { narrowedScope } from './authorize-request.js';
import type { ClientRecord } from './clients.js';
import {
  formParam as param,
  oauthError,
  requestingClient,
  type ClientAuthDeps,
  type ClientAuthRequest,
} from './client-authentication.js';
import {
  createGrant,
  grantedScopeOf,
  REFRESH_TTL_SECONDS,
  revokeFamily,
  useGrant,
  type Grant,
  type GrantKind,
} from './member-grants.js';
import { TOKEN_ALG, type TokenKeys } from './signing-keys.js';

export interface MemberTokenDeps extends ClientAuthDeps {
  key: TokenKeys;
  ttlSeconds: number;
  fhirBase: string;
}

export interface MemberTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  patient: string;
  id_token?: string;
  refresh_token?: string;
}

/** The member app of the request: a public one names itself, a confidential one authenticates. */
async function memberApp(req: ClientAuthRequest, deps: ClientAuthDeps): Promise<ClientRecord> {
  const client = await requestingClient(req, deps);
  if (client.role !== 'member-app')
    throw oauthError('unauthorized_client', 'Only member apps may use this grant: use client_credentials');
  return client;
}

const S256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const PKCE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/**
 * Uses a code or refresh token once (a second use revokes its family), for `requestedScope` or all it grants. The
 * scope is checked first: a token refused for asking too much is not spent.
 */
async function redeem(
  kind: GrantKind,
  token: string,
  client: ClientRecord,
  requestedScope: string | undefined,
  deps: MemberTokenDeps,
) {
  const granted = await grantedScopeOf(deps.db, kind, token);
  const scope = granted === undefined ? '' : narrowedScope(granted, requestedScope);
  const access = { jti: randomUUID(), exp: Math.floor(Date.now() / 1000) + deps.ttlSeconds };
  const used = await useGrant(deps.db, kind, token, access);
  const what = kind === 'code' ? 'authorization code' : 'refresh token';
  if (used.outcome === 'unknown') throw oauthError('invalid_grant', `Unknown ${what}`);
  if (used.outcome === 'used-before') {
    await revokeFamily(deps.db, deps.shared, used.familyId);
    throw oauthError('invalid_grant', `This ${what} was already used: every token issued from it is revoked`);
  }
  if (used.grant.clientId !== client.id) throw oauthError('invalid_grant', `This ${what} was issued to another app`);
  if (used.expired) throw oauthError('invalid_grant', `This ${what} has expired`);
  return { ...used, scope, jti: access.jti };
}

export async function authorizationCodeGrant(req: ClientAuthRequest, deps: MemberTokenDeps) {
  const code = param(req.form, 'code');
  const redirectUri = param(req.form, 'redirect_uri');
  const verifier = param(req.form, 'code_verifier');
  if (!code) throw oauthError('invalid_request', 'code is required');
  if (!redirectUri) throw oauthError('invalid_request', 'redirect_uri is required');
  if (!verifier) throw oauthError('invalid_request', 'code_verifier is required (PKCE)');
  const client = await memberApp(req, deps);
  const used = await redeem('code', code, client, param(req.form, 'scope'), deps);
  const { grant, scope } = used;
  if (grant.redirectUri !== redirectUri)
    throw oauthError('invalid_grant', 'redirect_uri differs from the authorization request');
  if (!PKCE_VERIFIER.test(verifier) || S256(verifier) !== grant.codeChallenge)
    throw oauthError('invalid_grant', 'code_verifier does not match the code_challenge');
  const familyExpires = new Date(Date.now() + REFRESH_TTL_SECONDS * 1000);
  return tokensFor(client, { ...grant, expiresAt: familyExpires }, scope, used.jti, deps);
}

export async function refreshTokenGrant(req: ClientAuthRequest, deps: MemberTokenDeps) {
  const token = param(req.form, 'refresh_token');
  if (!token) throw oauthError('invalid_request', 'refresh_token is required');
  const client = await memberApp(req, deps);
  const used = await redeem('refresh', token, client, param(req.form, 'scope'), deps);
  return tokensFor(client, used.grant, used.scope, used.jti, deps);
}

async function tokensFor(
  client: ClientRecord,
  grant: Grant,
  scope: string,
  jti: string,
  deps: MemberTokenDeps,
): Promise<MemberTokenResponse> {
  const scopes = scope.split(' ');
  const accessToken = await signAccessToken(
    deps.key,
    deps.issuer,
    {
      clientId: client.id,
      projectId: grant.projectId,
      admin: false,
      role: 'member-app',
      scope,
      generation: client.generation,
      patient: grant.patientId,
      fhirUser: `Patient/${grant.patientId}`,
    },
    deps.ttlSeconds,
    jti,
  );
  // A refresh token is rotated even for a narrower token without offline_access: the family keeps its scope.
  const refreshToken = grant.scope.split(' ').includes('offline_access')
    ? await createGrant(deps.db, 'refresh', {
        familyId: grant.familyId,
        clientId: grant.clientId,
        projectId: grant.projectId,
        accountId: grant.accountId,
        patientId: grant.patientId,
        scope: grant.scope,
        expiresAt: grant.expiresAt,
      })
    : undefined;
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: deps.ttlSeconds,
    scope,
    patient: grant.patientId,
    ...(scopes.includes('openid') ? { id_token: await idToken(client, grant, deps) } : {}),
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  };
}

/**
 * OpenID Connect Core §2: who signed in (the member account), for this app; SMART's `fhirUser` names the member's
 * Patient. The nonce of the authorization request is repeated in the code's tokens only (§12.2).
 */
function idToken(client: ClientRecord, grant: Grant, deps: MemberTokenDeps): Promise<string> {
  return new SignJWT({
    fhirUser: `${deps.fhirBase}/Patient/${grant.patientId}`,
    ...(grant.nonce ? { nonce: grant.nonce } : {}),
  })
    .setProtectedHeader({ alg: TOKEN_ALG, kid: deps.key.current.kid, typ: 'JWT' })
    .setIssuer(deps.issuer)
    .setAudience(client.id)
    .setSubject(grant.accountId)
    .setIssuedAt()
    .setExpirationTime(`${deps.ttlSeconds}s`)
    .sign(deps.key.current.privateKey);
}
