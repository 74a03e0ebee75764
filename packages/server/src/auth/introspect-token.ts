/**
 * Token introspection (RFC 7662), for authenticated clients. A client learns about its own tokens; a project's
 * `admin` client about every token of its project. Anything else — a token of another project or another client,
 * an expired, revoked, malformed or foreign one — is `{"active": false}` and nothing more (RFC 7662 §2.2).
 */
import type { ClientAuthRequest } from './client-authentication.js';
import type { ClientRecord } from './clients.js';
import { presentedToken, type PresentedTokenDeps } from './presented-token.js';
import type { ClientRole } from './roles.js';

export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id: string;
      token_type: 'Bearer';
      exp: number;
      iat: number;
      sub: string;
      iss: string;
      aud: string;
      jti: string;
      role: ClientRole;
      /** The token's project; absent for the super-admin's. */
      project?: string;
      /** A certificate-bound token's confirmation (RFC 8705 §3.2). */
      cnf?: { 'x5t#S256': string };
    };

const INACTIVE = { active: false } as const;

/** Whether `client` may learn about a token of `tokenClient` in `tokenProject`. */
function mayIntrospect(client: ClientRecord, tokenClient: string, tokenProject: string | undefined): boolean {
  if ((tokenProject ?? null) !== client.projectId) return false;
  return tokenClient === client.id || client.role === 'admin';
}

export async function introspectToken(
  req: ClientAuthRequest,
  deps: PresentedTokenDeps,
): Promise<IntrospectionResponse> {
  const { client, caller } = await presentedToken(req, deps);
  if (!caller || !mayIntrospect(client, caller.clientId, caller.projectId)) return INACTIVE;
  return {
    active: true,
    scope: caller.scope,
    client_id: caller.clientId,
    token_type: 'Bearer',
    exp: caller.expires,
    iat: caller.issuedAt,
    sub: caller.clientId,
    iss: deps.issuer,
    aud: deps.issuer,
    jti: caller.jti,
    role: caller.role,
    ...(caller.projectId ? { project: caller.projectId } : {}),
    ...(caller.certThumbprint ? { cnf: { 'x5t#S256': caller.certThumbprint } } : {}),
  };
}
