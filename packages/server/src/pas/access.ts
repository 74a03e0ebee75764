/**
 * Who may use prior authorization: the one place where PAS checks roles. Submitting, inquiring, sending
 * attachments, subscribing to decisions and registering a callback are for partner clients holding the `pas` scope
 * and for administrators (with the matching SMART scopes); deciding is for the payer's administrators alone, and
 * never the client that submitted; binding the adjudicating bot is for administrators and bot developers.
 */
import { accessFor, type Caller } from '../auth/access-token.js';
import type { AccessPolicy } from '../auth/access.js';
import { PAS_SCOPE, type ClientRole } from '../auth/roles.js';
import { forbidden } from '../infra/errors.js';

export type PasAction = 'submit' | 'inquire' | 'subscribe' | 'decide' | 'bind';

const ROLES_FOR: Record<PasAction, readonly ClientRole[]> = {
  submit: ['partner', 'admin'],
  inquire: ['partner', 'admin'],
  subscribe: ['partner', 'admin'],
  decide: ['admin'],
  bind: ['admin', 'bot-developer'],
};

/** What a client with the FHIR API needs in its SMART scopes for each action. */
const SCOPE_FOR: Record<PasAction, [string, 'c' | 'r' | 'u']> = {
  submit: ['Claim', 'c'],
  inquire: ['ClaimResponse', 'r'],
  subscribe: ['Subscription', 'c'],
  decide: ['ClaimResponse', 'u'],
  bind: ['Bot', 'u'],
};

const INTERACTION_NAMES = { c: 'create', r: 'read', u: 'update' } as const;

export function requirePas(action: PasAction, caller: Caller, access: AccessPolicy): void {
  if (!ROLES_FOR[action].includes(caller.role)) {
    throw forbidden(
      'auth.role-not-allowed',
      `A client with role "${caller.role}" may not ${action} prior authorizations`,
    );
  }
  if (caller.role === 'partner') {
    if (!caller.scopes.other.includes(PAS_SCOPE)) {
      throw forbidden('auth.forbidden-scope', `Prior authorization needs the "${PAS_SCOPE}" scope`);
    }
    return;
  }
  const [type, interaction] = SCOPE_FOR[action];
  if (!access.allows(type, interaction)) {
    throw forbidden(
      'auth.forbidden-scope',
      `Prior authorization ${action} needs the ${type} ${INTERACTION_NAMES[interaction]} scope`,
    );
  }
}

/**
 * The caller's view of the store on the PAS routes. A partner has no FHIR API: the PAS operations write on its behalf,
 * and the store lets it reach only the Subscriptions it creates and reads through them; other roles have their usual
 * access (an EHR or a member app is refused here).
 */
export function pasAccess(caller: Caller & { projectId: string }): AccessPolicy {
  if (caller.role !== 'partner') return accessFor(caller);
  return {
    projectId: caller.projectId,
    allows: (type, interaction) =>
      type === 'Subscription' && (interaction === 'c' || interaction === 'r' || interaction === 'u'),
  };
}
