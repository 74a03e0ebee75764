/**
 * Client roles: what each kind of client is registered for, the scopes it may hold (its ceiling), the scope it gets
 * when it asks for none, and whether it may use Hookbot's FHIR API at all. The token endpoint never grants more than
 * the client's registered scope, and the registered scope never exceeds the role's ceiling.
 */
import { grantingScopes, parseScopes, scopeCovers, type ScopeSet } from './scopes.js';

export const CLIENT_ROLES = ['admin', 'bot-developer', 'ehr', 'partner', 'member-app'] as const;
export type ClientRole = (typeof CLIENT_ROLES)[number];

/** Hookbot's own scope: discover and invoke CDS services and send feedback, with a Hookbot access token. */
export const CDS_HOOKS_SCOPE = 'cds-hooks';

/**
 * Hookbot's own scope for trading partners: submit and inquire prior authorization requests, send their
 * attachments, subscribe to their decisions and register a callback (`pas/access.ts`), and nothing else of the FHIR
 * API.
 */
export const PAS_SCOPE = 'pas';

/** What a member app may be granted: read its member's compartment, know who the member is, stay signed in. */
export const MEMBER_APP_SCOPE = 'patient/*.rs openid fhirUser launch/patient offline_access';

interface RoleDefinition {
  /** Registered (and granted) when no scope is given. */
  defaultScope: string;
  /** The most a client of this role may be registered for. */
  ceiling: string;
  /** May call the FHIR API: resources, bot and rule-set operations, feedback statistics. */
  fhirApi: boolean;
}

const ROLES: Record<ClientRole, RoleDefinition> = {
  // The payer's administrator: everything inside its project.
  admin: {
    defaultScope: 'system/*.cruds',
    ceiling: `system/*.cruds user/*.cruds ${CDS_HOOKS_SCOPE}`,
    fhirApi: true,
  },
  // Writes Bots (code and rule sets, stored as Binaries; $deploy, $execute, $rollback) and reads the project's data
  // and audit trail.
  'bot-developer': {
    defaultScope: 'system/Bot.cruds system/Binary.c system/*.rs',
    ceiling: `system/Bot.cruds system/Binary.c system/*.rs user/Bot.cruds user/Binary.c user/*.rs ${CDS_HOOKS_SCOPE}`,
    fhirApi: true,
  },
  // An EHR (CDS client): CDS discovery, invocation and feedback; nothing of the FHIR API.
  ehr: { defaultScope: CDS_HOOKS_SCOPE, ceiling: CDS_HOOKS_SCOPE, fhirApi: false },
  // A trading partner (clearinghouse, intermediary): the CDS services and prior authorization, no other FHIR API.
  partner: {
    defaultScope: `${CDS_HOOKS_SCOPE} ${PAS_SCOPE}`,
    ceiling: `${CDS_HOOKS_SCOPE} ${PAS_SCOPE}`,
    fhirApi: false,
  },
  // A member-facing app (SMART standalone launch): read-only patient-level scopes and the member's identity, never
  // system/ or user/ ones (a member's `user/*.read` is granted as `patient/*.read`: see authorize-request.ts).
  'member-app': { defaultScope: MEMBER_APP_SCOPE, ceiling: MEMBER_APP_SCOPE, fhirApi: false },
};

const ceilings = new Map<ClientRole, ScopeSet>(CLIENT_ROLES.map((role) => [role, parseScopes(ROLES[role].ceiling)]));

export function isClientRole(value: unknown): value is ClientRole {
  return typeof value === 'string' && (CLIENT_ROLES as readonly string[]).includes(value);
}

export function defaultScopeOf(role: ClientRole): string {
  return ROLES[role].defaultScope;
}

export function roleHasFhirApi(role: ClientRole): boolean {
  return ROLES[role].fhirApi;
}

/**
 * CDS services may be called with the `cds-hooks` scope, or, by a client of the FHIR API (an administrator, a bot
 * developer), with read access to Bot.
 */
export function mayCallCds(role: ClientRole, scopes: ScopeSet): boolean {
  if (scopes.other.includes(CDS_HOOKS_SCOPE)) return true;
  return roleHasFhirApi(role) && grantingScopes(scopes, 'Bot', 'r', ['system', 'user']).some((s) => !s.query);
}

/** Does `role` allow this one scope (a SMART resource scope, or one of Hookbot's own)? */
export function roleAllowsScope(role: ClientRole, raw: string): boolean {
  const ceiling = ceilings.get(role) as ScopeSet;
  const parsed = parseScopes(raw);
  const [scope] = parsed.scopes;
  if (scope) return parsed.scopes.length === 1 && ceiling.scopes.some((c) => scopeCovers(c, scope));
  return parsed.other.length === 1 && ceiling.other.includes(raw);
}

/** The first scope of `scope` that `role` may not hold, or undefined when all fit. */
export function scopeBeyondRole(role: ClientRole, scope: string): string | undefined {
  return scope
    .split(/\s+/)
    .filter(Boolean)
    .find((raw) => !roleAllowsScope(role, raw));
}

/** The roles that may hold `raw`, for error messages. */
export function rolesAllowing(raw: string): ClientRole[] {
  return CLIENT_ROLES.filter((role) => roleAllowsScope(role, raw));
}

/** A client's registered scope without what its role does not allow (a registration made before roles existed). */
export function registeredScope(role: ClientRole, scope: string): string {
  return scope
    .split(/\s+/)
    .filter((raw) => raw && roleAllowsScope(role, raw))
    .join(' ');
}
