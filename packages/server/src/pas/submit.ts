/**
 * `POST /fhir/R4/Claim/$submit`: validate the PAS request Bundle (every problem in one 4xx OperationOutcome,
 * nothing stored) → find the member by member id in the caller's project → store the Claim and the request in one
 * transaction → run the adjudication bot (failures pend) → store the ClaimResponse → answer the response Bundle.
 * A Claim that updates an earlier one (`related.claim`) goes to `update.ts`.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, Claim, ClaimResponse } from '@medplum/fhirtypes';
import type { Caller } from '../auth/access-token.js';
import { projectSystemAccess } from '../auth/access.js';
import { createRepository, type Repository } from '../fhir/repository.js';
import { invalidIssues, locatedIssues, type LocatedProblem } from '../infra/errors.js';
import type { Services } from '../services.js';
import { requirePas } from './access.js';
import { adjudicate } from './adjudicate.js';
import { findMember, type Member } from './member.js';
import { buildResponse } from './response.js';
import { updatePriorAuthorization } from './update.js';
import { insertAuthorization, updateAuthorization } from './store.js';
import {
  claimIdentifierKeys,
  orgIdentifierOf,
  providerIdentifiers,
  statusOf,
  storedClaim,
  storedClaimResponse,
} from './claim-records.js';
import { validateRequestBundle, type PasRequest } from './validate-request.js';

export interface SubmitInput {
  services: Services;
  caller: Caller;
  repo: Repository;
  body: unknown;
  requestIds?: { requestId: string; traceId: string };
}

/** Validates the Bundle and finds its member; throws one OperationOutcome with every problem. */
export async function checkSubmission(
  services: Services,
  projectId: string,
  body: unknown,
): Promise<{ request: PasRequest; member: Member }> {
  const validation = validateRequestBundle(body);
  if (!validation.ok) throw invalidIssues('pas.invalid-request', locatedIssues(validation.problems));
  const { request } = validation;
  const member = await findMember(services.db, projectId, request.memberId);
  if (!member) {
    const problem: LocatedProblem = {
      path: `Bundle.entry[${request.coverageEntry.index}].resource.subscriberId`,
      message: `No member with id "${request.memberId}" is covered by this payer`,
    };
    throw invalidIssues('pas.member-not-found', locatedIssues([problem], 'not-found'));
  }
  return { request, member };
}

export async function submitPriorAuthorization(input: SubmitInput): Promise<Bundle> {
  const { services, caller, repo } = input;
  requirePas('submit', caller, repo.access);
  const projectId = repo.access.projectId;
  const { request, member } = await checkSubmission(services, projectId, input.body);
  if (request.priorClaim || request.claim.related?.some((r) => r.claim)) {
    return updatePriorAuthorization({
      services,
      caller,
      repo,
      request,
      member,
      ...(input.requestIds ? { requestIds: input.requestIds } : {}),
    });
  }

  const id = randomUUID();
  const preAuthRef = `PA${id.replaceAll('-', '').slice(0, 12).toUpperCase()}`;
  const system = (db = services.db) => createRepository(db, projectSystemAccess(projectId), { baseUrl: repo.fhirBase });
  // Stored before the bot runs: an acknowledged request is never lost, whatever the bot does.
  const claim = await services.db.transaction(async (tx) => {
    const saved = await system(tx).create<Claim>(storedClaim(request, member));
    await insertAuthorization(tx, {
      projectId,
      id,
      claimId: saved.id as string,
      preAuthRef,
      status: 'received',
      memberId: request.memberId,
      patientId: member.patientId,
      claimIdentifiers: claimIdentifierKeys(request.claim),
      providerIdentifiers: providerIdentifiers(request),
      orgIdentifier: orgIdentifierOf(request.claim) ?? null,
      clientId: caller.clientId,
      requestBundle: request.bundle,
    });
    return saved;
  });

  const sequences = (request.claim.item ?? []).map((i) => i.sequence);
  const { decision } = await adjudicate({
    services,
    projectId,
    clientId: caller.clientId,
    operation: 'submit',
    claim: request.claim,
    bundle: request.bundle,
    member,
    memberId: request.memberId,
    sequences,
    authorizationId: id,
    ...(input.requestIds ? { requestIds: input.requestIds } : {}),
  });
  const built = buildResponse({ request, id, preAuthRef, decision, fhirBase: repo.fhirBase, now: new Date() });
  await services.db.transaction(async (tx) => {
    await system(tx).update<ClaimResponse>(storedClaimResponse(built.claimResponse, claim.id as string, member));
    await updateAuthorization(tx, projectId, id, {
      status: statusOf(decision),
      decision,
      responseBundle: built.bundle,
    });
  });
  return built.bundle;
}
