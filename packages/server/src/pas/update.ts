/**
 * PAS Claim updates (§4.7): a `$submit` whose Claim names an earlier one in `related.claim`. Items marked
 * `infoCancelled` (or item-level certificationType 3) are cancelled, items marked `infoChanged` or new are decided
 * again by the adjudication bot, the others keep their decision; a Claim-level certificationType 3 cancels them
 * all. The response covers every item (spec-46). A denied or cancelled authorization cannot be updated.
 */
import type { Bundle, Claim, ClaimItem } from '@medplum/fhirtypes';
import type { Caller } from '../auth/access-token.js';
import { projectSystemAccess } from '../auth/access.js';
import { createRepository, type Repository } from '../fhir/repository.js';
import { HookbotError, invalidIssues, locatedIssues } from '../infra/errors.js';
import type { Services } from '../services.js';
import { claimIdentifierKeys, identifierKeys, storedClaim } from './claim-records.js';
import { EXT } from './constants.js';
import type { ItemDecision } from './decision.js';
import type { Member } from './member.js';
import { redecide } from './redecide.js';
import { findByReference, type AuthorizationRow } from './store.js';
import { hasCertificationCancel, type PasRequest } from './validate-request.js';

export interface UpdateInput {
  services: Services;
  caller: Caller;
  repo: Repository;
  request: PasRequest;
  member: Member;
  requestIds?: { requestId: string; traceId: string };
}

function isCancelled(item: ClaimItem): boolean {
  return (
    (item.modifierExtension ?? []).some(
      (e) => (e.url === EXT.infoCancelledModifier || e.url === EXT.infoCancelled) && e.valueBoolean === true,
    ) || hasCertificationCancel(item)
  );
}

function isChanged(item: ClaimItem): boolean {
  return (item.extension ?? []).some((e) => e.url === EXT.infoChanged);
}

/** The keys naming the earlier Claim: the included prior Claim's identifiers, or `related.claim.identifier`. */
function priorKeys(request: PasRequest): string[] {
  const keys = request.priorClaim ? claimIdentifierKeys(request.priorClaim) : [];
  for (const related of request.claim.related ?? [])
    keys.push(...identifierKeys(related.claim?.identifier ? [related.claim.identifier] : []));
  return keys;
}

async function findPrior(input: UpdateInput): Promise<AuthorizationRow> {
  const { services, request, caller } = input;
  const row = (
    await findByReference(services.db, input.repo.access.projectId, caller.clientId, priorKeys(request))
  ).find((r) => r.memberId === request.memberId);
  const at = 'Bundle.entry[0].resource.related[0].claim';
  if (!row) {
    throw invalidIssues(
      'pas.prior-request-not-found',
      locatedIssues(
        [{ path: at, message: 'No earlier prior authorization request of this member matches the related Claim' }],
        'not-found',
      ),
    );
  }
  const items = row.decision?.items ?? [];
  if (items.length > 0 && items.every((i) => i.action === 'A3')) {
    throw invalidIssues(
      'pas.not-updatable',
      locatedIssues(
        [
          {
            path: at,
            message: `${row.preAuthRef} was not certified (A3): a denied request cannot be updated; submit a new request`,
          },
        ],
        'business-rule',
      ),
    );
  }
  if (row.status === 'cancelled') {
    throw invalidIssues(
      'pas.not-updatable',
      locatedIssues([{ path: at, message: `${row.preAuthRef} was cancelled: submit a new request` }], 'business-rule'),
    );
  }
  return row;
}

export async function updatePriorAuthorization(input: UpdateInput): Promise<Bundle> {
  const { services, caller, repo, request, member } = input;
  const projectId = repo.access.projectId;
  const row = await findPrior(input);
  if (row.status === 'received')
    throw new HookbotError('pas.still-deciding', `${row.preAuthRef} is still being decided`);
  const claim = await createRepository(services.db, projectSystemAccess(projectId), {
    baseUrl: repo.fhirBase,
  }).create<Claim>(storedClaim(request, member));
  const previous = new Map((row.decision?.items ?? []).map((i) => [i.sequence, i]));
  const items = request.claim.item ?? [];
  const changes: ItemDecision[] = [];
  const toDecide: number[] = [];
  if (request.cancelsAll) {
    for (const sequence of new Set([...previous.keys(), ...items.map((i) => i.sequence)]))
      changes.push({ sequence, action: 'C', note: 'Cancelled by the requester' });
  } else {
    for (const item of items) {
      if (isCancelled(item)) changes.push({ sequence: item.sequence, action: 'C', note: 'Cancelled by the requester' });
      else if (isChanged(item) || !previous.has(item.sequence)) toDecide.push(item.sequence);
    }
  }
  const recorded = await redecide({
    services,
    projectId,
    caller,
    cause: 'update',
    row,
    fhirBase: repo.fhirBase,
    claim: request.claim,
    bundle: request.bundle,
    member,
    memberId: request.memberId,
    sequences: toDecide,
    attachments: row.attachments,
    ...(input.requestIds ? { requestIds: input.requestIds } : {}),
    changes,
    record: { request: { parsed: request, claimId: claim.id as string } },
  });
  return recorded.bundle;
}
