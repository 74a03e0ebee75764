/**
 * OAuth client authentication, shared by the token, introspection and revocation endpoints: a secret in the body or
 * HTTP Basic (RFC 6749 §2.3.1), a signed JWT assertion (RFC 7523, SMART Backend Services "private_key_jwt"), or a
 * TLS client certificate with the `client_id` in the body (RFC 8705 §2: `tls_client_auth` by a CA-issued certificate's
 * subject DN, `self_signed_tls_client_auth` by a registered certificate's thumbprint).
 * Failures are RFC 6749 `invalid_client` (or `invalid_request` for a malformed request), and repeated failures per
 * client id and per address are slowed down (`token-failures.ts`).
 */
import { errors as joseErrors, jwtVerify, decodeJwt } from 'jose';
import { HookbotError, type ErrorCode, type OAuthErrorCode } from '../infra/errors.js';
import type { Database } from '../infra/database.js';
import type { OutboundPolicy } from '../infra/outbound-url.js';
import type { SharedState } from '../infra/shared-state.js';
import { subjectDnMatches, type PresentedCertificate } from './client-certificate.js';
import { findClient, type ClientRecord } from './clients.js';
import type { ClientKeyCache } from './client-keys.js';
import { verifySecret, type Kdf } from './secrets.js';
import { delayFailure, type Sleep } from './token-failures.js';

export interface ClientAuthRequest {
  form: Record<string, unknown>;
  authorization?: string;
  /** The caller's address: failed attempts are slowed down per address as well as per client id. */
  address?: string;
  /** The TLS client certificate of the connection (or the trusted proxy's header). */
  certificate?: PresentedCertificate;
}

/** An authenticated client; `mtlsThumbprint` when it authenticated with a certificate, to which its tokens are bound. */
export type AuthenticatedClient = ClientRecord & { mtlsThumbprint?: string };

export interface ClientAuthDeps {
  db: Database;
  issuer: string;
  /** A client assertion's `aud` is this URL or the issuer. */
  tokenUrl: string;
  /** The token endpoint's mutual-TLS alias (RFC 8705 §5), an `aud` as good as `tokenUrl`. */
  mtlsTokenUrl?: string;
  clientKeys: ClientKeyCache;
  shared: SharedState;
  outbound: OutboundPolicy;
  /** Secret hashing and waiting, replaceable in tests. */
  kdf?: Kdf;
  sleep?: Sleep;
}

const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ASSERTION_ALGS = ['RS384', 'ES384', 'RS256', 'ES256', 'PS384', 'EdDSA'];
const ASSERTION_MAX_LIFETIME_SECONDS = 300;
const ASSERTION_SKEW_SECONDS = 60;
/** RFC 6749 §5.2: a failed HTTP Basic authentication, or none where one is needed, is challenged for Basic. */
const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="hookbot"' };

const OAUTH_ERRORS: Record<OAuthErrorCode, ErrorCode> = {
  invalid_request: 'oauth.invalid-request',
  invalid_client: 'oauth.invalid-client',
  invalid_grant: 'oauth.invalid-grant',
  unauthorized_client: 'oauth.unauthorized-client',
  unsupported_grant_type: 'oauth.unsupported-grant-type',
  invalid_scope: 'oauth.invalid-scope',
};

export const oauthError = (code: OAuthErrorCode, description: string, headers?: Record<string, string>) =>
  new HookbotError(OAUTH_ERRORS[code], description, { oauthError: code, headers });

export const formParam = (form: Record<string, unknown>, name: string): string | undefined => {
  const value = form[name];
  if (Array.isArray(value)) throw oauthError('invalid_request', `Parameter "${name}" is repeated`);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

interface Presented {
  clientId: string;
  secret?: string;
  assertion?: string;
  certificate?: PresentedCertificate;
  basic: boolean;
}

function presentedCredentials(req: ClientAuthRequest): Presented {
  const form = req.form;
  const bodyId = formParam(form, 'client_id');
  const bodySecret = formParam(form, 'client_secret');
  const assertion = formParam(form, 'client_assertion');
  const assertionType = formParam(form, 'client_assertion_type');
  const auth = req.authorization ?? '';
  if (/^basic /i.test(auth)) {
    if (assertion) throw oauthError('invalid_request', 'Use one client authentication method only');
    const malformed = () => oauthError('invalid_client', 'Malformed HTTP Basic credentials', BASIC_CHALLENGE);
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw malformed();
    let id: string;
    let secret: string;
    try {
      id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    } catch {
      throw malformed();
    }
    // Some clients (Medplum's) send the same credentials in the body too: harmless when they are the same pair.
    if ((bodySecret !== undefined && bodySecret !== secret) || (bodyId !== undefined && bodyId !== id)) {
      throw oauthError('invalid_request', 'Use one client authentication method only: the body and HTTP Basic differ');
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
  if (!bodyId) throw oauthError('invalid_client', 'Client authentication is required', BASIC_CHALLENGE);
  if (!bodySecret && req.certificate) return { clientId: bodyId, certificate: req.certificate, basic: false };
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

/** RFC 8705 §2.1: a CA-issued certificate with the registered subject DN, or §2.2: the registered certificate. */
function certificateAuthenticates(client: ClientRecord, cert: PresentedCertificate): boolean {
  if (client.tlsSubjectDn !== null && cert.trusted && subjectDnMatches(client.tlsSubjectDn, cert.subject)) return true;
  return client.certThumbprint !== null && client.certThumbprint === cert.thumbprint;
}

async function authenticate(presented: Presented, deps: ClientAuthDeps): Promise<AuthenticatedClient> {
  const failed = () =>
    oauthError('invalid_client', 'Client authentication failed', presented.basic ? BASIC_CHALLENGE : {});
  const client = await findClient(deps.db, presented.clientId);
  if (presented.certificate) {
    if (!client || !certificateAuthenticates(client, presented.certificate)) throw failed();
    return { ...client, mtlsThumbprint: presented.certificate.thumbprint };
  }
  const certificateOnly = () =>
    oauthError('invalid_client', 'This client must authenticate with its TLS client certificate (mutual TLS)');
  if (presented.assertion) {
    if (!client) throw failed();
    const resolver = await deps.clientKeys.resolverFor(client, deps.outbound);
    if (!resolver) throw failed();
    try {
      const { payload } = await jwtVerify(presented.assertion, resolver, {
        issuer: client.id,
        subject: client.id,
        audience: [deps.tokenUrl, deps.issuer, ...(deps.mtlsTokenUrl ? [deps.mtlsTokenUrl] : [])],
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
    if (client.requireMtls) throw certificateOnly();
    return client;
  }
  // The same scrypt work for an unknown id, a client without a secret and a wrong secret: timing tells them apart
  // from nothing.
  const matches = await verifySecret(presented.secret ?? '', client?.secretHash, deps.kdf);
  if (!client || !presented.secret || !matches) throw failed();
  if (client.requireMtls) throw certificateOnly();
  return client;
}

/** The client a request authenticates as, else `invalid_client` (after the delay its earlier failures earned). */
export async function authenticateClient(req: ClientAuthRequest, deps: ClientAuthDeps): Promise<AuthenticatedClient> {
  const presented = presentedCredentials(req);
  try {
    return await authenticate(presented, deps);
  } catch (err) {
    if (err instanceof HookbotError && err.oauthError === 'invalid_client') {
      // Only a failure waits: delaying every attempt would let anyone who knows a client id slow its owner down.
      const who = { clientId: presented.clientId, ...(req.address ? { address: req.address } : {}) };
      await delayFailure(deps.shared, who, deps.sleep);
    }
    throw err;
  }
}

/**
 * The client of a request: a public client (a member app in a browser or on a device) names itself with
 * `client_id`, having nothing to authenticate with (RFC 6749 §2.1); any other client authenticates.
 */
export async function requestingClient(req: ClientAuthRequest, deps: ClientAuthDeps): Promise<ClientRecord> {
  const credentials = req.authorization || req.form.client_secret || req.form.client_assertion;
  const id = formParam(req.form, 'client_id');
  const named = !credentials && id ? await findClient(deps.db, id) : undefined;
  return named?.isPublic ? named : authenticateClient(req, deps);
}
