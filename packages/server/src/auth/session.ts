/**
 * `GET /auth/me`: the caller as Hookbot's CLI reads it (`clientId`, `projectId`, `role`, `scope`, `admin`) and as
 * Medplum's clients read a session (`project`, `membership`, `profile`, `config`, `accessPolicy`): a client is its
 * own profile, a `ClientApplication`, and its scopes are its access policy.
 */
import type {
  AccessPolicy,
  AccessPolicyResource,
  ClientApplication,
  Project,
  ProjectMembership,
  UserConfiguration,
} from '@medplum/fhirtypes';
import type { Database } from '../infra/database.js';
import type { Caller } from './access-token.js';
import type { ClientRole } from './roles.js';
import type { Interaction } from './access.js';

const WRITES: Interaction[] = ['c', 'u', 'd'];

export interface Session {
  clientId: string;
  projectId?: string;
  role: ClientRole;
  scope: string;
  admin: boolean;
  project?: Project & { id: string };
  /** Without `project` for the super-admin, whose token belongs to no project. */
  membership: Omit<ProjectMembership, 'project'> & { id: string; project?: ProjectMembership['project'] };
  profile: ClientApplication & { id: string };
  config: UserConfiguration & { id: string };
  accessPolicy: AccessPolicy;
}

/** Medplum's access policy for the caller's `system/` and `user/` scopes (query-restricted ones grant nothing here). */
function accessPolicyOf(caller: Caller): AccessPolicy {
  const resource: AccessPolicyResource[] = caller.scopes.scopes
    .filter((s) => (s.context === 'system' || s.context === 'user') && !s.query)
    .map((s) => ({
      resourceType: s.resourceType,
      ...(WRITES.some((i) => s.interactions.has(i)) ? {} : { readonly: true }),
    }));
  return { resourceType: 'AccessPolicy', name: caller.scope, resource };
}

export async function sessionOf(db: Database, caller: Caller): Promise<Session> {
  const names = (
    await db.query<{ client_name: string; project_name: string | null }>(
      `SELECT c.name AS client_name, p.name AS project_name
         FROM clients c LEFT JOIN projects p ON p.id = c.project_id WHERE c.id = $1`,
      [caller.clientId],
    )
  ).rows[0];
  const { clientId, projectId, role, scope, admin } = caller;
  const profile = { reference: `ClientApplication/${clientId}`, ...(names ? { display: names.client_name } : {}) };
  const project = projectId ? { reference: `Project/${projectId}` } : undefined;
  return {
    clientId,
    ...(projectId ? { projectId } : {}),
    role,
    scope,
    admin,
    ...(projectId
      ? {
          project: {
            resourceType: 'Project',
            id: projectId,
            ...(names?.project_name ? { name: names.project_name } : {}),
          },
        }
      : {}),
    membership: {
      resourceType: 'ProjectMembership',
      id: clientId,
      ...(project ? { project } : {}),
      user: profile,
      profile,
      admin: role === 'admin',
    },
    profile: { resourceType: 'ClientApplication', id: clientId, ...(names ? { name: names.client_name } : {}) },
    config: { resourceType: 'UserConfiguration', id: clientId },
    accessPolicy: accessPolicyOf(caller),
  };
}
