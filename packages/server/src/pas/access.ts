/**
 * Who may use prior authorization: the one place where PAS checks roles. Submitting and inquiring are for
 * partner clients (and administrators); recording a decision is for the payer, never the submitter. Until clients
 * carry a role, the SMART scopes stand in for it: `Claim` create to submit, `ClaimResponse` read to inquire,
 * `ClaimResponse` update to decide; a client with a role is held to the role's list as well.
 */
import type { Caller } from '../auth/access-token.js';
import type { AccessPolicy } from '../auth/access.js';
import { forbidden } from '../infra/errors.js';

export type PasAction = 'submit' | 'inquire' | 'decide' | 'bind';

const ROLES_FOR: Record<PasAction, readonly string[]> = {
  submit: ['partner', 'admin'],
  inquire: ['partner', 'admin'],
  decide: ['admin'],
  bind: ['admin', 'bot-developer'],
};

const SCOPE_FOR: Record<PasAction, [string, 'c' | 'r' | 'u']> = {
  submit: ['Claim', 'c'],
  inquire: ['ClaimResponse', 'r'],
  decide: ['ClaimResponse', 'u'],
  bind: ['Bot', 'u'],
};

function roleOf(caller: Caller): string | undefined {
  const role = (caller as Caller & { role?: unknown }).role;
  return typeof role === 'string' ? role : undefined;
}

export function requirePas(action: PasAction, caller: Caller, access: AccessPolicy): void {
  const role = roleOf(caller);
  if (role !== undefined && !ROLES_FOR[action].includes(role)) {
    throw forbidden(`The ${role} role may not ${action} prior authorizations`);
  }
  const [type, interaction] = SCOPE_FOR[action];
  if (!access.allows(type, interaction)) {
    throw forbidden(
      `Prior authorization ${action} needs the ${type} ${interaction === 'c' ? 'create' : interaction === 'r' ? 'read' : 'update'} scope`,
    );
  }
}
