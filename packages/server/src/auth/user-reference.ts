/** How records name a console user: by Hookbot's user id, displayed as their email. */
import type { Practitioner, Reference } from '@medplum/fhirtypes';
import type { SessionUser } from './user-roles.js';

/** The identifier system of console users' ids. */
export const USER_ID_SYSTEM = 'https://hookbot.dev/fhir/sid/user';

export function userReference(user: Pick<SessionUser, 'id' | 'email'>): Reference<Practitioner> {
  return { type: 'Practitioner', identifier: { system: USER_ID_SYSTEM, value: user.id }, display: user.email };
}
