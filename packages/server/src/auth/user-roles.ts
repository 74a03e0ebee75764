/**
 * The roles of named users (people signed in to the console with a session cookie), per project: what each may
 * call, route by route, and the client role and scopes its requests carry below the route (the repository's
 * checks, the handlers' own). Fail-closed: a route no role lists is refused to every user, so a route added later
 * stays closed to sessions until it is classified here.
 */
import type { ClientRole } from './roles.js';

export const USER_ROLES = ['administrator', 'bot-developer', 'analyst', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export function isUserRole(value: unknown): value is UserRole {
  return typeof value === 'string' && (USER_ROLES as readonly string[]).includes(value);
}

/** Who is signed in: put on the caller of a session (`Caller.user`). */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  projectId: string;
  projectName: string;
}

/** The routes every user may call: reads of the project's data, feedback statistics, its own session. */
const READS = [
  'GET /auth/session',
  'DELETE /auth/session',
  'GET /auth/me',
  'GET /cds-feedback/stats',
  'GET /fhir/R4/:type',
  'POST /fhir/R4/:type/_search',
  'GET /fhir/R4/:type/:id',
  'GET /fhir/R4/:type/:id/_history',
  'GET /fhir/R4/:type/:id/_history/:vid',
  'GET /fhir/R4/:type/_history',
  'GET /fhir/R4/_history',
  // The console's reads: statistics, a rule set's versions and their diff.
  'GET /cds-invocations/stats',
  'GET /cds-feedback/timeline',
  'GET /fhir/R4/Bot/:id/$rule-set',
  'GET /fhir/R4/Bot/:id/$rule-set-diff',
];

/**
 * An analyst's writes: rule sets only. `$rollback` and `$execute` are refused below the route unless the Bot is a
 * rule set (`bots/routes.ts`); `$deploy-rules` replaces no coded Bot (`rules/deploy-rule-set.ts`).
 */
const RULE_SET_WRITES = [
  'POST /fhir/R4/Bot/$deploy-rules',
  'POST /fhir/R4/Bot/$test-rules',
  // Running a draft rule set on a request (validation, a fact, a preview) is a test run: not for viewers.
  'POST /fhir/R4/Bot/$validate-rules',
  'POST /fhir/R4/Bot/$evaluate-fact',
  'POST /fhir/R4/Bot/$preview-rules',
  'POST /fhir/R4/Bot/:id/$rollback',
  'POST /fhir/R4/Bot/:id/$execute',
  'GET /fhir/R4/Bot/:id/$execute',
];

/** Managing the project's people: its administrators only (the handlers check the project too). */
const USER_MANAGEMENT = /^(?:GET|POST|DELETE) \/admin\/projects\/:id\/(?:invitations|users)(?:\/|$)/;

interface UserRoleDefinition {
  /** The client role whose checks apply below the route (PAS decisions, CDS, the FHIR API). */
  clientRole: ClientRole;
  /** SMART scopes of the session: what the repository lets it read and write. */
  scope: string;
  mayCall(route: string): boolean;
}

const reads = new Set(READS);
const ruleSets = new Set([...READS, ...RULE_SET_WRITES]);

const ROLES: Record<UserRole, UserRoleDefinition> = {
  // As the project's `admin` client, and its people.
  administrator: { clientRole: 'admin', scope: 'user/*.cruds', mayCall: () => true },
  // As a `bot-developer` client: coded bots and rule sets, reading the project's data.
  'bot-developer': {
    clientRole: 'bot-developer',
    scope: 'user/Bot.cruds user/Binary.c user/*.rs',
    mayCall: (route) => !USER_MANAGEMENT.test(route),
  },
  // Rule sets are stored as a Binary and served by a Bot: the scopes allow both, the routes only rule-set ones.
  analyst: {
    clientRole: 'bot-developer',
    scope: 'user/Bot.cu user/Binary.c user/*.rs',
    mayCall: (route) => ruleSets.has(route),
  },
  viewer: { clientRole: 'bot-developer', scope: 'user/*.rs', mayCall: (route) => reads.has(route) },
};

export function userRoleDefinition(role: UserRole): Omit<UserRoleDefinition, 'mayCall'> {
  return ROLES[role];
}

/** May a user of `role` call the route of this key (`METHOD /pattern`, HEAD as GET)? */
export function userMayCall(role: UserRole, method: string, pattern: string): boolean {
  return ROLES[role].mayCall(`${method === 'HEAD' ? 'GET' : method} ${pattern}`);
}

/** Roles that may touch rule-set Bots only, never coded ones (checked by the Bot operations themselves). */
export const RULE_SET_ONLY_ROLES: readonly UserRole[] = ['analyst'];
