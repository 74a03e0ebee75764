/**
 * Who may reach each registered route: the one table the route walks read. A route missing from it, or an entry
 * no route has any more, fails the walk, so every new route is classified when it is added.
 */
import { getToken, request } from './http.js';
import { memberToken } from './member-launch.js';
import type { TestServer } from './server.js';

export const CALLERS = ['super-admin', 'admin', 'bot-developer', 'partner', 'ehr', 'member-app'] as const;
export type Caller = (typeof CALLERS)[number];

const PUBLIC = 'public';
const ANY: Caller[] = [...CALLERS];
const NOBODY: Caller[] = [];
const SUPER_ADMIN: Caller[] = ['super-admin'];
const ADMIN: Caller[] = ['admin'];
const FHIR_API: Caller[] = ['admin', 'bot-developer'];
const CDS: Caller[] = ['admin', 'bot-developer', 'partner', 'ehr'];
const PAS: Caller[] = ['admin', 'partner'];

/** Route key (`METHOD pattern`, `ALL` for a layer that serves no method but answers 405) → who reaches it. */
export const ROUTE_TABLE: Record<string, Caller[] | typeof PUBLIC> = {
  'GET /healthcheck': PUBLIC,
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

  'GET /admin/projects': SUPER_ADMIN,
  'POST /admin/projects': SUPER_ADMIN,
  'POST /admin/projects/:id/clients': SUPER_ADMIN,
  'POST /admin/projects/:id/clients/:clientId/secret': SUPER_ADMIN,
  'PUT /admin/projects/:id/clients/:clientId/keys': SUPER_ADMIN,
  'PUT /admin/projects/:id/settings': SUPER_ADMIN,
  'POST /admin/projects/:id/bot': FHIR_API,

  'GET /cds-services': CDS,
  'POST /cds-services/:id': CDS,
  'POST /cds-services/:id/feedback': CDS,
  'GET /cds-feedback/stats': FHIR_API,

  'POST /fhir/R4/Claim/$submit': PAS,
  'POST /fhir/R4/Claim/$inquire': PAS,
  'POST /fhir/R4/$submit-attachment': PAS,
  'POST /fhir/R4/Subscription': PAS,
  'GET /fhir/R4/Subscription/:id/$status': PAS,
  'POST /fhir/R4/$pas-callback': PAS,
  'POST /fhir/R4/ClaimResponse/:id/$decide': ADMIN,
  'POST /fhir/R4/Bot/:id/$bind-pas': FHIR_API,

  'POST /fhir/R4/Bot/$deploy-rules': FHIR_API,
  'POST /fhir/R4/Bot/$test-rules': FHIR_API,
  'POST /fhir/R4/Bot/:id/$deploy': FHIR_API,
  'POST /fhir/R4/Bot/:id/$execute': FHIR_API,
  'GET /fhir/R4/Bot/:id/$execute': FHIR_API,
  'POST /fhir/R4/Bot/$execute': FHIR_API,
  'POST /fhir/R4/Bot/:id/$rollback': FHIR_API,

  'POST /fhir/R4': FHIR_API,
  'GET /fhir/R4/:type': FHIR_API,
  'POST /fhir/R4/:type': FHIR_API,
  'PUT /fhir/R4/:type': FHIR_API,
  'DELETE /fhir/R4/:type': FHIR_API,
  'POST /fhir/R4/:type/_search': FHIR_API,
  'GET /fhir/R4/:type/:id/_history/:vid': FHIR_API,
  'GET /fhir/R4/:type/:id/_history': FHIR_API,
  'GET /fhir/R4/:type/:id': FHIR_API,
  'PUT /fhir/R4/:type/:id': FHIR_API,
  'PATCH /fhir/R4/:type/:id': FHIR_API,
  'DELETE /fhir/R4/:type/:id': FHIR_API,

  'ALL /fhir/R4/metadata': NOBODY,
  'ALL /fhir/R4/OperationDefinition': NOBODY,
  'ALL /fhir/R4/OperationDefinition/:id': NOBODY,
  'ALL /fhir/R4': NOBODY,
  'ALL /fhir/R4/:type': NOBODY,
  'ALL /fhir/R4/:type/_search': NOBODY,
  'ALL /fhir/R4/:type/:id/_history/:vid': NOBODY,
  'ALL /fhir/R4/:type/:id/_history': NOBODY,
  'ALL /fhir/R4/:type/:id': NOBODY,
};

/**
 * A token for each caller: the super-admin, the demo project's admin client, a client of each lesser role
 * registered in the demo project (with its role's default scope), and a member app's token for a member who signed
 * up and approved it (a member app has no token of its own).
 */
export async function callerTokens(t: TestServer): Promise<Record<Caller, string>> {
  const superAdmin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
  const tokens: Partial<Record<Caller, string>> = {
    'super-admin': superAdmin,
    admin: await getToken(t.url, t.demo.clientId, t.demo.clientSecret),
  };
  tokens['member-app'] = (await memberToken(t)).token;
  for (const role of ['bot-developer', 'partner', 'ehr'] as const) {
    const client = await request<{ clientId: string; clientSecret: string }>(
      `${t.url}/admin/projects/${t.demo.projectId}/clients`,
      { method: 'POST', token: superAdmin, json: { name: `route-walk ${role}`, role } },
    );
    if (client.status !== 201) throw new Error(`registering a ${role}: ${client.status}`);
    tokens[role] = await getToken(t.url, client.body.clientId, client.body.clientSecret);
  }
  return tokens as Record<Caller, string>;
}
