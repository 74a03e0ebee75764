/** OAuth clients, stored in the `clients` table: registration checks, creation and lookups. */
import { randomUUID, X509Certificate } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import type { ClientRole } from './roles.js';
import { canonicalThumbprint, thumbprintOf } from './client-certificate.js';
import { CLIENT_ROLES, defaultScopeOf, isClientRole, rolesAllowing, scopeBeyondRole } from './roles.js';
import { parseScopes } from './scopes.js';
import { generateSecret, hashSecret } from './secrets.js';
import { badRequest } from '../infra/errors.js';
import type { Database } from '../infra/database.js';

const invalid = (message: string, field: string) => badRequest('admin.invalid-request', message, field);

export interface ClientRecord {
  id: string;
  projectId: string | null;
  name: string;
  secretHash: string | null;
  /** What the client was registered for: never more than its role allows. */
  scope: string;
  role: ClientRole;
  /** The super-admin (no project): may use `/admin`. */
  isAdmin: boolean;
  issuer: string | null;
  jwks: JSONWebKeySet | null;
  jwksUri: string | null;
  /** `self_signed_tls_client_auth`: the registered certificate's `x5t#S256`. */
  certThumbprint: string | null;
  /** `tls_client_auth`: the subject DN of its certificate, issued by a CA of `TLS_CLIENT_CA`. */
  tlsSubjectDn: string | null;
  /** The client authenticates only with its certificate, so all its tokens are certificate-bound. */
  requireMtls: boolean;
  /** A member app's exact redirect URIs (empty for other clients). */
  redirectUris: string[];
  /** A public member app: no secret, PKCE only. */
  isPublic: boolean;
  /** Incremented by every change of credentials; tokens carry it (`auth/revocation.ts`). */
  generation: number;
}

interface ClientRow {
  id: string;
  project_id: string | null;
  name: string;
  secret_hash: string | null;
  scope: string;
  role: string;
  is_admin: boolean;
  issuer: string | null;
  jwks: JSONWebKeySet | null;
  jwks_uri: string | null;
  cert_thumbprint: string | null;
  tls_subject_dn: string | null;
  require_mtls: boolean;
  redirect_uris: string[] | null;
  is_public: boolean;
  credential_generation: number;
}

const toClient = (r: ClientRow): ClientRecord => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  secretHash: r.secret_hash,
  scope: r.scope,
  // The column is constrained to the roles; anything else would be a hand edit, and gets the least.
  role: isClientRole(r.role) ? r.role : 'ehr',
  isAdmin: r.is_admin,
  issuer: r.issuer,
  jwks: r.jwks,
  jwksUri: r.jwks_uri,
  certThumbprint: r.cert_thumbprint,
  tlsSubjectDn: r.tls_subject_dn,
  requireMtls: r.require_mtls,
  redirectUris: r.redirect_uris ?? [],
  isPublic: r.is_public,
  generation: Number(r.credential_generation ?? 0),
});

export interface NewClientInput {
  name: string;
  /**
   * Set by `checkNewClient` for every client registered through the API. Without it, `createClient` makes a project
   * administrator: what the server itself registers (a project's default client, the demo and super-admin clients).
   */
  role?: ClientRole;
  /** The role's default scope when absent. */
  scope?: string;
  /** CDS Hooks / private_key_jwt clients: the JWT `iss` and where its keys are. */
  issuer?: string;
  jwks?: JSONWebKeySet;
  jwksUri?: string;
  /** Mutual TLS (RFC 8705): a registered certificate's thumbprint, a CA-issued certificate's subject DN. */
  certThumbprint?: string;
  tlsSubjectDn?: string;
  requireMtls?: boolean;
  /** A member app: where it may be sent back to after a member's authorization. */
  redirectUris?: string[];
  isPublic?: boolean;
}

export interface NewClient {
  clientId: string;
  /** Present for secret clients; shown once, never stored in clear. */
  clientSecret?: string;
  role: ClientRole;
  scope: string;
  certThumbprint?: string;
  tlsClientAuthSubjectDn?: string;
  requireMtls?: boolean;
  redirectUris?: string[];
  public?: boolean;
}

/**
 * The role of a client registered without one: an EHR when it signs JWTs (`issuer`, `jwks`, `jwksUri`), and also
 * otherwise, since the least privilege is the safe default; the FHIR API needs `admin` or `bot-developer` by name.
 */
const DEFAULT_CLIENT_ROLE: ClientRole = 'ehr';

/**
 * A member app's redirect URI: absolute, without a fragment (RFC 6749 §3.1.2), https; http and loopback hosts
 * (`localhost`, 127.0.0.0/8, `[::1]`) only in development mode, as a payer's sandbox allows and its production does
 * not. It is matched exactly at the authorization endpoint.
 */
function checkRedirectUri(raw: unknown, development: boolean): string {
  const field = 'redirectUris';
  if (typeof raw !== 'string' || !URL.canParse(raw)) throw invalid('Each redirect URI must be an absolute URL', field);
  const url = new URL(raw);
  if (url.hash || raw.includes('#')) throw invalid(`Redirect URI "${raw}" must not have a fragment`, field);
  if (url.username || url.password) throw invalid(`Redirect URI "${raw}" must not carry credentials`, field);
  const loopback =
    /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(url.hostname) || url.hostname.endsWith('.localhost');
  if (!development && (url.protocol !== 'https:' || loopback)) {
    throw invalid(
      `Redirect URI "${raw}" must be https on a public host (http and loopback only in development)`,
      field,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw invalid(`Redirect URI "${raw}" must be http(s)`, field);
  return raw;
}

function checkMemberApp(body: Record<string, unknown>, role: ClientRole, development: boolean) {
  const { redirectUris, public: isPublic } = body;
  if (isPublic !== undefined && typeof isPublic !== 'boolean') throw invalid('"public" must be a boolean', 'public');
  if (role !== 'member-app') {
    if (redirectUris !== undefined || isPublic !== undefined)
      throw invalid('"redirectUris" and "public" are for member apps (role "member-app")', 'role');
    return {};
  }
  if (!Array.isArray(redirectUris) || redirectUris.length === 0 || redirectUris.length > 20)
    throw invalid('"redirectUris" must list 1 to 20 redirect URIs', 'redirectUris');
  if (isPublic && (body.jwks !== undefined || body.jwksUri !== undefined))
    throw invalid('A public app has no keys: leave out "jwks" and "jwksUri"', 'public');
  return {
    redirectUris: [...new Set(redirectUris.map((uri) => checkRedirectUri(uri, development)))],
    ...(isPublic ? { isPublic: true } : {}),
  };
}

export function checkNewClient(input: unknown, options: { development?: boolean } = {}): NewClientInput {
  const body = (typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {}) as Record<
    string,
    unknown
  >;
  const { name, scope, issuer, jwks, jwksUri } = body;
  if (typeof name !== 'string' || !name.trim()) throw invalid('"name" is required', 'name');
  if (body.role !== undefined && !isClientRole(body.role)) {
    throw invalid(`"role" must be one of ${CLIENT_ROLES.map((r) => `"${r}"`).join(', ')}`, 'role');
  }
  // Redirect URIs make a member app: the only clients that send members' browsers back.
  const role: ClientRole = isClientRole(body.role)
    ? body.role
    : body.redirectUris !== undefined
      ? 'member-app'
      : DEFAULT_CLIENT_ROLE;
  if (scope !== undefined) {
    if (typeof scope !== 'string') throw invalid('"scope" must be a string', 'scope');
    const parsed = parseScopes(scope);
    if (parsed.scopes.some((s) => s.query)) {
      throw invalid('Query-restricted scopes are not supported for Hookbot clients', 'scope');
    }
    const beyond = scopeBeyondRole(role, scope);
    if (beyond !== undefined) {
      const holders = rolesAllowing(beyond);
      throw invalid(
        holders.length
          ? `Scope "${beyond}" is beyond the "${role}" role: it needs role ${holders.map((r) => `"${r}"`).join(' or ')}`
          : `Unknown scope "${beyond}": use SMART syntax such as system/*.read`,
        holders.length ? 'role' : 'scope',
      );
    }
  }
  if (issuer !== undefined && (typeof issuer !== 'string' || !issuer))
    throw invalid('"issuer" must be a string', 'issuer');
  if (
    jwks !== undefined &&
    (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as JSONWebKeySet).keys))
  ) {
    throw invalid('"jwks" must be a JSON Web Key Set ({"keys": [...]})', 'jwks');
  }
  if (jwksUri !== undefined) {
    if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri))
      throw invalid('"jwksUri" must be an absolute URL', 'jwksUri');
  }
  if ((jwks !== undefined || jwksUri !== undefined) && issuer === undefined) {
    throw invalid('"issuer" is required with "jwks" or "jwksUri"', 'issuer');
  }
  if (jwks !== undefined && jwksUri !== undefined) throw invalid('Send "jwks" or "jwksUri", not both', 'jwksUri');
  const mtls = checkMtls(body);
  const memberApp = checkMemberApp(body, role, options.development ?? false);
  return {
    name: name.trim(),
    role,
    ...memberApp,
    ...(scope !== undefined ? { scope: scope as string } : {}),
    ...(issuer !== undefined ? { issuer: issuer as string } : {}),
    ...(jwks !== undefined ? { jwks: jwks as JSONWebKeySet } : {}),
    ...(jwksUri !== undefined ? { jwksUri: jwksUri as string } : {}),
    ...mtls,
  };
}

/**
 * The mutual-TLS part of a registration (RFC 8705 §2): `certificate` (PEM) or `certThumbprint` (its SHA-256, base64url
 * or hex) for `self_signed_tls_client_auth`, `tlsClientAuthSubjectDn` for `tls_client_auth`, and `requireMtls`.
 */
function checkMtls(
  body: Record<string, unknown>,
): Pick<NewClientInput, 'certThumbprint' | 'tlsSubjectDn' | 'requireMtls'> {
  const { certificate, certThumbprint, tlsClientAuthSubjectDn: dn, requireMtls } = body;
  if (certificate !== undefined && certThumbprint !== undefined) {
    throw invalid('Send "certificate" or "certThumbprint", not both', 'certThumbprint');
  }
  let thumbprint: string | undefined;
  if (certificate !== undefined) {
    try {
      thumbprint = thumbprintOf(new X509Certificate(certificate as string));
    } catch {
      throw invalid('"certificate" must be a PEM X.509 certificate', 'certificate');
    }
  }
  if (certThumbprint !== undefined) {
    thumbprint = typeof certThumbprint === 'string' ? canonicalThumbprint(certThumbprint) : undefined;
    if (!thumbprint)
      throw invalid('"certThumbprint" must be a SHA-256 thumbprint (base64url or hex)', 'certThumbprint');
  }
  if (dn !== undefined && (typeof dn !== 'string' || !/^[^=,]+=/.test(dn.trim()))) {
    throw invalid(
      '"tlsClientAuthSubjectDn" must be a distinguished name such as CN=partner,O=Acme',
      'tlsClientAuthSubjectDn',
    );
  }
  if (requireMtls !== undefined && typeof requireMtls !== 'boolean')
    throw invalid('"requireMtls" must be a boolean', 'requireMtls');
  if (requireMtls && thumbprint === undefined && dn === undefined) {
    throw invalid('"requireMtls" needs "certificate", "certThumbprint" or "tlsClientAuthSubjectDn"', 'requireMtls');
  }
  return {
    ...(thumbprint ? { certThumbprint: thumbprint } : {}),
    ...(dn !== undefined ? { tlsSubjectDn: (dn as string).trim() } : {}),
    ...(requireMtls ? { requireMtls: true } : {}),
  };
}

export async function createClient(
  db: Database,
  projectId: string | null,
  input: NewClientInput,
  options: { id?: string; secret?: string; isAdmin?: boolean } = {},
): Promise<NewClient> {
  const id = options.id ?? randomUUID();
  const keyClient = input.jwks !== undefined || input.jwksUri !== undefined;
  const secret = keyClient || input.requireMtls || input.isPublic ? undefined : (options.secret ?? generateSecret());
  const role = input.role ?? 'admin';
  const scope = input.scope ?? defaultScopeOf(role);
  await db.query(
    `INSERT INTO clients (id, project_id, name, secret_hash, scope, role, is_admin, issuer, jwks, jwks_uri,
       cert_thumbprint, tls_subject_dn, require_mtls, redirect_uris, is_public)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    [
      id,
      projectId,
      input.name,
      secret ? await hashSecret(secret) : null,
      scope,
      role,
      options.isAdmin ?? false,
      input.issuer ?? null,
      input.jwks ? JSON.stringify(input.jwks) : null,
      input.jwksUri ?? null,
      input.certThumbprint ?? null,
      input.tlsSubjectDn ?? null,
      input.requireMtls ?? false,
      input.redirectUris ? JSON.stringify(input.redirectUris) : null,
      input.isPublic ?? false,
    ],
  );
  return {
    clientId: id,
    ...(secret ? { clientSecret: secret } : {}),
    role,
    scope,
    ...(input.certThumbprint ? { certThumbprint: input.certThumbprint } : {}),
    ...(input.tlsSubjectDn ? { tlsClientAuthSubjectDn: input.tlsSubjectDn } : {}),
    ...(input.requireMtls ? { requireMtls: true } : {}),
    ...(input.redirectUris ? { redirectUris: input.redirectUris, public: input.isPublic ?? false } : {}),
  };
}

export async function findClient(db: Database, id: string): Promise<ClientRecord | undefined> {
  // A NUL can be in no stored id, and PostgreSQL refuses it in a parameter: such an id (from HTTP Basic
  // credentials or a JWT claim, which the body checks do not see) is simply unknown.
  if (id.includes('\u0000')) return undefined;
  const row = (await db.query<ClientRow>('SELECT * FROM clients WHERE id = $1', [id])).rows[0];
  return row && toClient(row);
}

export async function findClientsByIssuer(db: Database, issuer: string): Promise<ClientRecord[]> {
  if (issuer.includes('\u0000')) return [];
  return (
    await db.query<ClientRow>('SELECT * FROM clients WHERE issuer = $1 ORDER BY created_at, id', [issuer])
  ).rows.map(toClient);
}

/** New credentials for a client: a secret, or keys (a key client keeps its issuer). */
export type CredentialChange = { secret: string } | { jwks: JSONWebKeySet | null; jwksUri: string | null };

/**
 * Replaces a client's credentials and moves it to the next credential generation, in one statement; the generation
 * the replaced credentials had, or undefined when `projectId` (null: the super-admin) holds no such client.
 */
export async function replaceCredentials(
  db: Database,
  projectId: string | null,
  id: string,
  change: CredentialChange,
): Promise<number | undefined> {
  const [set, values] =
    'secret' in change
      ? ['secret_hash = $3', [await hashSecret(change.secret)]]
      : ['jwks = $3, jwks_uri = $4', [change.jwks ? JSON.stringify(change.jwks) : null, change.jwksUri]];
  const { rows } = await db.query<{ generation: number }>(
    `UPDATE clients SET ${set}, credential_generation = credential_generation + 1
     WHERE id = $1 AND project_id IS NOT DISTINCT FROM $2 RETURNING credential_generation - 1 AS generation`,
    [id, projectId, ...values],
  );
  return rows[0] ? Number(rows[0].generation) : undefined;
}

/** Replaces a client's secret hash (admin credentials from the environment, set at every start). */
export async function setClientSecret(db: Database, id: string, secret: string): Promise<void> {
  await db.query('UPDATE clients SET secret_hash = $2 WHERE id = $1', [id, await hashSecret(secret)]);
}
