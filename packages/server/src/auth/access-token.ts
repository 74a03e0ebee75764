/** Hookbot access tokens: ES256 JWTs carrying the tenant (project), the client and the granted scopes. */
import { randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { forbidden, unauthorized } from '../infra/errors.js';
import type { SharedState } from '../infra/shared-state.js';
import type { AccessPolicy } from './access.js';
import { patientAccess } from './patient-access.js';
import { userReference } from './user-reference.js';
import { ACCESS_TOKEN_SKEW_SECONDS, isRevoked } from './revocation.js';
import { isClientRole, roleHasFhirApi, type ClientRole } from './roles.js';
import { grantingScopes, parseScopes, type ScopeSet } from './scopes.js';
import { TOKEN_ALG, type TokenKeys } from './signing-keys.js';
import type { SessionUser } from './user-roles.js';

export interface Caller {
  clientId: string;
  /** The tenant; absent for the super-admin. */
  projectId?: string;
  admin: boolean;
  /** The role the client was registered with. */
  role: ClientRole;
  scope: string;
  scopes: ScopeSet;
  /** `exp` of the token, seconds since the epoch. */
  expires: number;
  /** `iat` of the token, seconds since the epoch. */
  issuedAt: number;
  /** The token's id: what a revocation names. */
  jti: string;
  /** RFC 8705 `cnf.x5t#S256`: the token works only with the client certificate of that thumbprint. */
  certThumbprint?: string;
  /** A member's token: the id of the member's Patient (SMART `patient` launch context). */
  patient?: string;
  /** A member's token: who signed in (OpenID Connect `fhirUser`, e.g. `Patient/123`). */
  fhirUser?: string;
  /** The client's credential generation the token was issued under (`cg`; 0 for tokens issued before it). */
  generation: number;
  /** A person signed in to the console (a session cookie, not a token): who, and in which role. */
  user?: SessionUser;
}

export interface TokenClaims {
  clientId: string;
  projectId?: string;
  admin: boolean;
  role: ClientRole;
  scope: string;
  certThumbprint?: string;
  /** The Patient id of a member's token (JWT claim `patient`). */
  patient?: string;
  /** e.g. `Patient/123` (JWT claim `fhirUser`). */
  fhirUser?: string;
  /** The credential generation the client authenticated with (0 when omitted). */
  generation?: number;
}

export async function signAccessToken(
  keys: TokenKeys,
  issuer: string,
  claims: TokenClaims,
  ttlSeconds: number,
  /** Chosen by the caller when it must record the token's id before issuing it (a member grant's family). */
  jti: string = randomUUID(),
): Promise<string> {
  return new SignJWT({
    client_id: claims.clientId,
    // Medplum's clients ask `/auth/me` for the session only when the token names a login: here, the token itself.
    login_id: jti,
    scope: claims.scope,
    role: claims.role,
    cg: claims.generation ?? 0,
    ...(claims.projectId ? { project: claims.projectId } : {}),
    ...(claims.admin ? { admin: true } : {}),
    ...(claims.certThumbprint ? { cnf: { 'x5t#S256': claims.certThumbprint } } : {}),
    ...(claims.patient ? { patient: claims.patient } : {}),
    ...(claims.fhirUser ? { fhirUser: claims.fhirUser } : {}),
  })
    .setProtectedHeader({ alg: TOKEN_ALG, kid: keys.current.kid, typ: 'at+jwt' })
    .setIssuer(issuer)
    .setAudience(issuer)
    .setSubject(claims.clientId)
    .setJti(jti)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(keys.current.privateKey);
}

/**
 * Tokens already verified, per signing key, until they expire: signature verification is the largest fixed cost of
 * a warm request. A revocation is not remembered here: `verifyAccessToken` asks the shared state on every call.
 */
const verifiedTokens = new WeakMap<TokenKeys, Map<string, { caller: Caller; expires: number }>>();
const MAX_VERIFIED_TOKENS = 10_000;

/**
 * The caller of a Hookbot access token verified before and not yet expired, without decoding it again: whether it
 * is a Hookbot token at all. Its revocation is not checked; `verifyAccessToken` does that.
 */
export function verifiedAccessToken(key: TokenKeys, token: string): Caller | undefined {
  const hit = verifiedTokens.get(key)?.get(token);
  return hit && hit.expires > Date.now() ? hit.caller : undefined;
}

/**
 * The caller of a valid, unrevoked Hookbot access token, else 401. Beyond the first verification of a token, the
 * cost is one shared-state read (the revocation marker): a Map lookup in process, one `EXISTS` with Redis.
 */
export async function verifyAccessToken(
  key: TokenKeys,
  issuer: string,
  token: string,
  shared: SharedState,
): Promise<Caller> {
  const caller = verifiedAccessToken(key, token) ?? (await verifyAndRemember(key, issuer, token));
  if (await isRevoked(shared, caller))
    throw unauthorized('auth.revoked-token', 'Access token was revoked', {
      'WWW-Authenticate': 'Bearer error="invalid_token", error_description="revoked"',
    });
  return caller;
}

async function verifyAndRemember(key: TokenKeys, issuer: string, token: string): Promise<Caller> {
  const caller = await verifyUncached(key, issuer, token);
  let verified = verifiedTokens.get(key);
  if (!verified) verifiedTokens.set(key, (verified = new Map()));
  if (verified.size >= MAX_VERIFIED_TOKENS) verified.clear();
  verified.set(token, { caller, expires: caller.expires * 1000 });
  return caller;
}

async function verifyUncached(key: TokenKeys, issuer: string, token: string): Promise<Caller> {
  try {
    const { payload } = await jwtVerify(token, key.verificationKey, {
      issuer,
      audience: issuer,
      algorithms: [TOKEN_ALG],
      typ: 'at+jwt',
      clockTolerance: ACCESS_TOKEN_SKEW_SECONDS,
      requiredClaims: ['exp', 'iat', 'jti'],
    });
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
    const scope = typeof payload.scope === 'string' ? payload.scope : '';
    const projectId = typeof payload.project === 'string' ? payload.project : undefined;
    if (!clientId) throw unauthorized('auth.invalid-token', 'Access token has no client_id');
    const cnf = payload.cnf as { 'x5t#S256'?: unknown } | undefined;
    const certThumbprint = typeof cnf?.['x5t#S256'] === 'string' ? cnf['x5t#S256'] : undefined;
    // A token without a role was issued before clients had roles: its scope may exceed what the client now holds.
    if (!isClientRole(payload.role))
      throw unauthorized('auth.token-without-role', 'Access token carries no client role: get a new one', {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    return Object.freeze({
      clientId,
      projectId,
      admin: payload.admin === true,
      role: payload.role,
      scope,
      scopes: parseScopes(scope),
      expires: payload.exp as number,
      issuedAt: payload.iat as number,
      jti: payload.jti as string,
      ...(certThumbprint ? { certThumbprint } : {}),
      ...(typeof payload.patient === 'string' ? { patient: payload.patient } : {}),
      ...(typeof payload.fhirUser === 'string' ? { fhirUser: payload.fhirUser } : {}),
      generation: typeof payload.cg === 'number' ? payload.cg : 0,
    });
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired)
      throw unauthorized('auth.expired-token', 'Access token expired', {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    if (err instanceof joseErrors.JOSEError)
      throw unauthorized('auth.invalid-token', 'Invalid access token', {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    throw err;
  }
}

/**
 * The access a caller's token grants inside its project: SMART `system/` and `user/` scopes. A member app reads its
 * member's records (`patient-access.ts`); any other client whose role has no FHIR API (an EHR, a partner) is refused
 * outright, whatever its token says.
 */
export function accessFor(caller: Caller & { projectId: string }): AccessPolicy {
  if (caller.role === 'member-app') return patientAccess(caller);
  if (!roleHasFhirApi(caller.role)) {
    throw forbidden('auth.role-not-allowed', `A client with role "${caller.role}" may not use the FHIR API`);
  }
  const cache = new Map<string, boolean>();
  return {
    projectId: caller.projectId,
    ...(caller.user ? { author: userReference(caller.user) } : {}),
    allows(resourceType, interaction) {
      const key = `${resourceType}.${interaction}`;
      let allowed = cache.get(key);
      if (allowed === undefined) {
        // Query-restricted v2 scopes are for EHR tokens handed to CDS bots; on Hookbot's own API they grant nothing.
        allowed = grantingScopes(caller.scopes, resourceType, interaction, ['system', 'user']).some((s) => !s.query);
        cache.set(key, allowed);
      }
      return allowed;
    },
  };
}
