/**
 * Who may reach each registered route: the one table the route walks read. A route missing from it, or an entry
 * no route has any more, fails the walk, so every new route is classified when it is added.
 */
import { demoUser, inviteUser, signIn } from './console-session.js';
import { getToken, request } from './http.js';
import { memberToken } from './member-launch.js';
import type { TestServer } from './server.js';

/** Clients (bearer tokens), and console users of each role (`user:…`, a session cookie and its CSRF token). */
export const CALLERS = [
  'super-admin',
  'admin',
  'bot-developer',
  'partner',
  'ehr',
  'member-app',
  'user:administrator',
  'user:bot-developer',
  'user:analyst',
  'user:viewer',
] as const;
export type Caller = (typeof CALLERS)[number];
export const USER_CALLERS = ['user:administrator', 'user:bot-developer', 'user:analyst', 'user:viewer'] as const;

const PUBLIC = 'public';
const ANY: Caller[] = [...CALLERS];
const NOBODY: Caller[] = [];
const USERS: Caller[] = [...USER_CALLERS];
const SUPER_ADMIN: Caller[] = ['super-admin'];
// A project's administrator user may do what its `admin` client does; a bot developer user as a bot developer client.
const ADMIN: Caller[] = ['admin', 'user:administrator'];
const PROJECT_ADMIN: Caller[] = ['super-admin', 'admin', 'user:administrator'];
const FHIR_API: Caller[] = ['admin', 'bot-developer', 'user:administrator', 'user:bot-developer'];
// Analysts and viewers read; analysts also deploy and test rule sets (not the walk's Bot: a coded one).
const FHIR_READ: Caller[] = [...FHIR_API, 'user:analyst', 'user:viewer'];
const RULE_SETS: Caller[] = [...FHIR_API, 'user:analyst'];
// CDS Hooks authenticate their callers themselves, by bearer token or client JWT: never a session.
const CDS: Caller[] = ['admin', 'bot-developer', 'partner', 'ehr'];
const PAS: Caller[] = ['admin', 'partner', 'user:administrator'];

/** Route key (`METHOD pattern`, `ALL` for a layer that serves no method but answers 405) → who reaches it. */
export const ROUTE_TABLE: Record<string, Caller[] | typeof PUBLIC> = {
  'GET /healthcheck': PUBLIC,
  'GET /console/': PUBLIC,
  'GET /console/*path': PUBLIC,
  'GET /livez': PUBLIC,
  'GET /readyz': PUBLIC,
  // Only the metrics token (HOOKBOT_METRICS_TOKEN), never an access token (test/metrics.test.ts).
  'GET /metrics': NOBODY,
  'POST /oauth2/token': PUBLIC,
  'POST /oauth2/introspect': PUBLIC,
  'POST /oauth2/revoke': PUBLIC,
  'GET /.well-known/jwks.json': PUBLIC,
  'GET /.well-known/smart-configuration': PUBLIC,
  'GET /fhir/R4/.well-known/smart-configuration': PUBLIC,
  'GET /fhir/R4/metadata': PUBLIC,
  // The definitions the CapabilityStatement refers to: served from code, the same for everyone, never written.
  'GET /fhir/R4/OperationDefinition': PUBLIC,
  'GET /fhir/R4/OperationDefinition/:id': PUBLIC,
  'GET /auth/me': ANY,
  'GET /.well-known/openid-configuration': PUBLIC,
  'GET /oauth2/authorize': PUBLIC,
  'POST /oauth2/authorize': PUBLIC,
  'GET /oauth2/authorize/sign-up': PUBLIC,
  'POST /oauth2/authorize/sign-in': PUBLIC,
  'POST /oauth2/authorize/sign-up': PUBLIC,
  'POST /oauth2/authorize/consent': PUBLIC,
  'POST /oauth2/authorize/sign-out': PUBLIC,
  'GET /oauth2/userinfo': ['member-app'],
  'POST /auth/session': PUBLIC,
  // Console sessions only: a bearer token is no session.
  'GET /auth/session': USERS,
  'DELETE /auth/session': USERS,
  'POST /auth/invitations/accept': PUBLIC,
  'POST /admin/projects/:id/invitations': PROJECT_ADMIN,
  'GET /admin/projects/:id/users': PROJECT_ADMIN,
  'DELETE /admin/projects/:id/users/:userId': PROJECT_ADMIN,

  'GET /admin/projects': SUPER_ADMIN,
  'POST /admin/projects': SUPER_ADMIN,
  'POST /admin/projects/:id/clients': SUPER_ADMIN,
  'POST /admin/projects/:id/clients/:clientId/secret': SUPER_ADMIN,
  'PUT /admin/projects/:id/clients/:clientId/keys': SUPER_ADMIN,
  'PUT /admin/projects/:id/settings': SUPER_ADMIN,
  'POST /admin/signing-keys': SUPER_ADMIN,
  'POST /admin/secrets/reseal': SUPER_ADMIN,
  'POST /admin/projects/:id/bot': FHIR_API,

  'GET /cds-services': CDS,
  'POST /cds-services/:id': CDS,
  'POST /cds-services/:id/feedback': CDS,
  'GET /cds-feedback/stats': FHIR_READ,
  'GET /cds-feedback/timeline': FHIR_READ,
  'GET /cds-invocations/stats': FHIR_READ,

  'POST /fhir/R4/Claim/$submit': PAS,
  'POST /fhir/R4/Claim/$inquire': PAS,
  'POST /fhir/R4/$submit-attachment': PAS,
  'POST /fhir/R4/Subscription': PAS,
  'GET /fhir/R4/Subscription/:id/$status': PAS,
  'POST /fhir/R4/$pas-callback': PAS,
  'POST /fhir/R4/ClaimResponse/:id/$decide': ADMIN,
  'POST /fhir/R4/Bot/:id/$bind-pas': FHIR_API,

  'POST /fhir/R4/Bot/$deploy-rules': RULE_SETS,
  'POST /fhir/R4/Bot/$test-rules': RULE_SETS,
  'POST /fhir/R4/Bot/$validate-rules': RULE_SETS,
  'POST /fhir/R4/Bot/$evaluate-fact': RULE_SETS,
  'POST /fhir/R4/Bot/$preview-rules': RULE_SETS,
  'GET /fhir/R4/Bot/:id/$rule-set': FHIR_READ,
  'GET /fhir/R4/Bot/:id/$rule-set-diff': FHIR_READ,
  'POST /fhir/R4/Bot/:id/$deploy': FHIR_API,
  'POST /fhir/R4/Bot/:id/$execute': FHIR_API,
  'GET /fhir/R4/Bot/:id/$execute': FHIR_API,
  'POST /fhir/R4/Bot/$execute': FHIR_API,
  'POST /fhir/R4/Bot/:id/$rollback': FHIR_API,

  'GET /fhir/R4/$export': FHIR_API,
  'POST /fhir/R4/$export': FHIR_API,
  'GET /fhir/R4/Patient/$export': FHIR_API,
  'POST /fhir/R4/Patient/$export': FHIR_API,
  'GET /fhir/R4/Group/:id/$export': FHIR_API,
  'POST /fhir/R4/Group/:id/$export': FHIR_API,
  'GET /fhir/R4/$export-status/:job': FHIR_API,
  'DELETE /fhir/R4/$export-status/:job': FHIR_API,
  'GET /fhir/R4/$export-file/:job/:file': FHIR_API,

  'POST /fhir/R4': FHIR_API,
  'POST /fhir/R4/': FHIR_API,
  'GET /fhir/R4/:type': FHIR_READ,
  'POST /fhir/R4/:type': FHIR_API,
  'PUT /fhir/R4/:type': FHIR_API,
  'DELETE /fhir/R4/:type': FHIR_API,
  'POST /fhir/R4/:type/_search': FHIR_READ,
  // A member reads the history of their own compartment (their Patient, Coverages, EOBs…), nothing else.
  'GET /fhir/R4/_history': [...FHIR_READ, 'member-app'],
  'GET /fhir/R4/:type/_history': FHIR_READ,
  'GET /fhir/R4/:type/:id/_history/:vid': FHIR_READ,
  'GET /fhir/R4/:type/:id/_history': FHIR_READ,
  'GET /fhir/R4/:type/:id': FHIR_READ,
  'PUT /fhir/R4/:type/:id': FHIR_API,
  'PATCH /fhir/R4/:type/:id': FHIR_API,
  'DELETE /fhir/R4/:type/:id': FHIR_API,

  'ALL /fhir/R4/metadata': NOBODY,
  'ALL /fhir/R4/$export': NOBODY,
  'ALL /fhir/R4/Patient/$export': NOBODY,
  'ALL /fhir/R4/Group/:id/$export': NOBODY,
  'ALL /fhir/R4/$export-status/:job': NOBODY,
  'ALL /fhir/R4/$export-file/:job/:file': NOBODY,
  'ALL /fhir/R4/OperationDefinition': NOBODY,
  'ALL /fhir/R4/OperationDefinition/:id': NOBODY,
  'ALL /fhir/R4': NOBODY,
  'ALL /fhir/R4/': NOBODY,
  'ALL /fhir/R4/:type': NOBODY,
  'ALL /fhir/R4/:type/_search': NOBODY,
  'ALL /fhir/R4/_history': NOBODY,
  'ALL /fhir/R4/:type/_history': NOBODY,
  'ALL /fhir/R4/:type/:id/_history/:vid': NOBODY,
  'ALL /fhir/R4/:type/:id/_history': NOBODY,
  'ALL /fhir/R4/:type/:id': NOBODY,
};

/**
 * The headers each caller sends: a bearer token for the super-admin, the demo project's admin client, a client of
 * each lesser role registered in the demo project (with its role's default scope), and a member app's token for a
 * member who signed up and approved it (a member app has no token of its own); for each console user role, a
 * session cookie and its CSRF token (the demo analyst and viewer, an administrator and a bot developer invited by
 * the demo project's admin client).
 */
export async function callerHeaders(t: TestServer): Promise<Record<Caller, Record<string, string>>> {
  const superAdmin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
  const admin = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  const tokens: Partial<Record<Caller, string>> = { 'super-admin': superAdmin, admin };
  tokens['member-app'] = (await memberToken(t)).token;
  for (const role of ['bot-developer', 'partner', 'ehr'] as const) {
    const client = await request<{ clientId: string; clientSecret: string }>(
      `${t.url}/admin/projects/${t.demo.projectId}/clients`,
      { method: 'POST', token: superAdmin, json: { name: `route-walk ${role}`, role } },
    );
    if (client.status !== 201) throw new Error(`registering a ${role}: ${client.status}`);
    tokens[role] = await getToken(t.url, client.body.clientId, client.body.clientSecret);
  }
  const headers: Partial<Record<Caller, Record<string, string>>> = {};
  for (const [caller, token] of Object.entries(tokens))
    headers[caller as Caller] = { Authorization: `Bearer ${token}` };
  for (const role of ['administrator', 'bot-developer'] as const) {
    const user = await inviteUser(t, admin, `route-walk-${role}@example.com`, role);
    headers[`user:${role}`] = (await signIn(t, user.email, user.password)).headers;
  }
  for (const role of ['analyst', 'viewer'] as const) {
    const user = demoUser(t, role);
    headers[`user:${role}`] = (await signIn(t, user.email, user.password)).headers;
  }
  return headers as Record<Caller, Record<string, string>>;
}
