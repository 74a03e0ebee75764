/**
 * The authorization request of a SMART standalone launch (App Launch 2.2 §Obtain authorization code, RFC 6749
 * §4.1.1, RFC 7636): checked whole before any page is shown, and again when the member approves it. An unknown client
 * or a redirect URI it did not register is answered on a page and never redirected to (RFC 6749 §4.1.2.1); every
 * other error is sent back to the app's redirect URI with `error` and `state`.
 */
import type { Database } from '../infra/database.js';
import { findClient, type ClientRecord } from './clients.js';
import { oauthError } from './client-authentication.js';
import { registeredScope } from './roles.js';
import { parseScope, parseScopes, scopeCovers, type ResourceScope } from './scopes.js';

export interface AuthorizeRequest {
  client: ClientRecord;
  redirectUri: string;
  state?: string;
  /** What the member is asked to approve: the app's ask within what a member app may have. */
  scope: string;
  codeChallenge: string;
  nonce?: string;
  /** The request's parameters, carried through the member's pages to come back to the same request. */
  params: Record<string, string>;
}

/** An authorization error: sent to `redirectUri` when there is one, else shown on a page. */
export class AuthorizeError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly redirectUri?: string,
    readonly state?: string,
  ) {
    super(description);
  }

  /** The app's redirect URI with the error (RFC 6749 §4.1.2.1), or undefined when it must not be redirected to. */
  get location(): string | undefined {
    if (!this.redirectUri) return undefined;
    return withQuery(this.redirectUri, {
      error: this.error,
      error_description: this.description,
      ...(this.state !== undefined ? { state: this.state } : {}),
    });
  }
}

/** `uri` with `params` added to its query (a registered redirect URI may carry its own). */
export function withQuery(uri: string, params: Record<string, string>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value);
  return url.toString();
}

/** The parameters a request is made of; any other parameter is dropped, a repeated one refused. */
const PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'aud',
  'code_challenge',
  'code_challenge_method',
  'nonce',
  'launch',
] as const;

/** Scopes other than resource scopes that a member app may be granted. `online_access` is the default: dropped. */
const IDENTITY_SCOPES = new Set(['openid', 'fhirUser', 'launch/patient', 'offline_access']);
const IGNORED_SCOPES = new Set(['online_access']);
/** Seed 001's default, `user/*.read`, granted at patient level. */
export const DEFAULT_MEMBER_SCOPE = 'patient/*.read';

/**
 * The read part of a resource scope, at patient level: a member sees their own compartment only, so `user/` is
 * granted as `patient/`, and writes are never granted (the grant may be less than the ask: RFC 6749 §3.3).
 */
function patientReadScope(scope: ResourceScope): string | undefined {
  const v1 = /\.(read|write|\*)$/.test(scope.raw);
  const letters = ['r', 's'].filter((i) => scope.interactions.has(i as 'r' | 's')).join('');
  if (!letters) return undefined;
  return `patient/${scope.resourceType}.${v1 ? 'read' : letters}`;
}

/**
 * The scope a member app is granted for `requested` (its registered scope bounds it): resource scopes become
 * patient-level reads, identity scopes are kept; a `system/` scope, a query-restricted one, an unknown one or one
 * beyond the app's registration is `invalid_scope`.
 */
export function memberAppScope(client: ClientRecord, requested: string | undefined): string {
  const registered = parseScopes(registeredScope(client.role, client.scope));
  const granted: string[] = [];
  for (const raw of (requested ?? DEFAULT_MEMBER_SCOPE).split(/\s+/).filter(Boolean)) {
    if (IGNORED_SCOPES.has(raw)) continue;
    const parsed = parseScope(raw);
    if (!parsed) {
      if (!IDENTITY_SCOPES.has(raw) || !registered.other.includes(raw))
        throw oauthError('invalid_scope', `Scope "${raw}" is not available to this app`);
      granted.push(raw);
      continue;
    }
    if (parsed.context === 'system' || parsed.query)
      throw oauthError('invalid_scope', `Scope "${raw}": a member app gets patient-level scopes only`);
    const read = patientReadScope(parsed);
    if (!read) continue;
    const asPatient = parseScope(read) as ResourceScope;
    if (!registered.scopes.some((r) => scopeCovers(r, asPatient)))
      throw oauthError('invalid_scope', `Scope "${raw}" is beyond this app's registration`);
    granted.push(read);
  }
  if (!granted.some((s) => parseScope(s))) throw oauthError('invalid_scope', 'No resource scope can be granted');
  return [...new Set(granted)].join(' ');
}

/** `requested` when every scope of it is within `granted` (a narrower token: RFC 6749 §6), else `invalid_scope`. */
export function narrowedScope(granted: string, requested: string | undefined): string {
  if (requested === undefined) return granted;
  const allowed = parseScopes(granted);
  const asked = requested.split(/\s+/).filter(Boolean);
  const beyond = asked.find((raw) => {
    const scope = parseScope(raw);
    return scope ? !allowed.scopes.some((g) => scopeCovers(g, scope)) : !allowed.other.includes(raw);
  });
  if (beyond !== undefined) throw oauthError('invalid_scope', `Scope "${beyond}" was not granted`);
  if (asked.length === 0) throw oauthError('invalid_scope', 'scope is empty');
  return [...new Set(asked)].join(' ');
}

const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Checks a whole authorization request: see the file comment for where its errors go. */
export async function checkAuthorizeRequest(
  input: Record<string, unknown>,
  deps: { db: Database; fhirBase: string },
): Promise<AuthorizeRequest> {
  const params: Record<string, string> = {};
  let repeated: string | undefined;
  for (const name of PARAMS) {
    const value = input[name];
    if (Array.isArray(value)) repeated ??= name;
    else if (typeof value === 'string' && value !== '') params[name] = value;
  }
  const { client_id: clientId, redirect_uri: redirectUri } = params;
  if (repeated === 'client_id' || repeated === 'redirect_uri')
    throw new AuthorizeError('invalid_request', `Parameter "${repeated}" is repeated`);
  if (!clientId) throw new AuthorizeError('invalid_request', 'client_id is required');
  const client = clientId.includes('\u0000') ? undefined : await findClient(deps.db, clientId);
  if (!client || client.role !== 'member-app' || !client.projectId)
    throw new AuthorizeError('invalid_client', 'Unknown app (client_id)');
  // SMART requires the redirect_uri, and it must be exactly one the app registered.
  if (!redirectUri || !client.redirectUris.includes(redirectUri))
    throw new AuthorizeError('invalid_request', 'This redirect_uri is not registered for the app');

  const state = typeof input.state === 'string' ? input.state : undefined;
  const fail = (error: string, description: string) => new AuthorizeError(error, description, redirectUri, state);
  if (repeated) throw fail('invalid_request', `Parameter "${repeated}" is repeated`);
  if (params.response_type !== 'code') throw fail('unsupported_response_type', 'response_type must be "code"');
  if (params.launch) throw fail('invalid_request', 'EHR launch is not supported: use a standalone launch');
  if (params.aud?.replace(/\/$/, '') !== deps.fhirBase)
    throw fail('invalid_request', `aud must be this server's FHIR base URL, ${deps.fhirBase}`);
  if (params.code_challenge_method !== 'S256')
    throw fail('invalid_request', 'PKCE is required with code_challenge_method "S256" ("plain" is not accepted)');
  if (!params.code_challenge || !PKCE_CHALLENGE.test(params.code_challenge))
    throw fail('invalid_request', 'code_challenge must be the base64url SHA-256 of the code_verifier');
  let scope: string;
  try {
    scope = memberAppScope(client, params.scope);
  } catch (err) {
    throw fail('invalid_scope', (err as Error).message);
  }
  return {
    client,
    redirectUri,
    ...(state !== undefined ? { state } : {}),
    scope,
    codeChallenge: params.code_challenge,
    ...(params.nonce ? { nonce: params.nonce } : {}),
    params,
  };
}
