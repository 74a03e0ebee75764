/** PAS Claim updates and cancellations (`related.claim`); see README.md. */
import type { Bundle } from '@medplum/fhirtypes';
import { HookbotError } from '../infra/errors.js';
import type { Member } from './member.js';
import type { SubmitInput } from './submit.js';
import type { PasRequest } from './validate-request.js';

export function updatePriorAuthorization(
  _input: SubmitInput & { request: PasRequest; member: Member },
): Promise<Bundle> {
  return Promise.reject(
    new HookbotError(501, 'not-supported', 'Updates of prior authorization requests are not supported yet'),
  );
}
