/**
 * How a PAS request is kept: the stored Claim and ClaimResponse (the member's own Patient and Coverage instead of
 * the provider's ids), the authorization's status, and the keys `$inquire` and updates find it by.
 */
import type { Claim, ClaimResponse } from '@medplum/fhirtypes';
import type { Decision } from './decision.js';
import type { Member } from './member.js';
import type { AuthorizationStatus } from './store.js';
import type { PasRequest } from './validate-request.js';

export function statusOf(decision: Decision): AuthorizationStatus {
  if (decision.items.some((i) => i.action === 'A4')) return 'pended';
  if (decision.items.length > 0 && decision.items.every((i) => i.action === 'C')) return 'cancelled';
  return 'complete';
}

export function identifierKeys(identifiers: { system?: string; value?: string }[] | undefined): string[] {
  return (identifiers ?? [])
    .filter((i) => i.value)
    .map((i) => (i.system ? `${i.system}|${i.value}` : (i.value as string)));
}

/** The identifiers of the requesting provider (Organization, Practitioner or PractitionerRole in the Bundle). */
export function providerIdentifiers(request: PasRequest): string[] {
  const ref = request.claim.provider?.reference;
  const entry = ref
    ? request.entries.find((e) => `${e.resource.resourceType}/${e.resource.id}` === ref || e.fullUrl === ref)
    : undefined;
  return identifierKeys(
    (entry?.resource as { identifier?: { system?: string; value?: string }[] } | undefined)?.identifier,
  );
}

/** The sending system (ISA06 equivalent) named by the Claim's TransmissionIdentifiers extension, if any. */
export function orgIdentifierOf(claim: Claim): string | undefined {
  const ext = claim.extension?.find((e) => e.url.endsWith('/extension-TransmissionIdentifiers'));
  return ext?.extension?.find((e) => e.url === 'interchangeSenderID')?.valueString;
}

/** A Claim's identifiers as `system|value` and as bare values, the forms an inquiry or update may use. */
export function claimIdentifierKeys(claim: Pick<Claim, 'identifier'>): string[] {
  return [
    ...new Set([
      ...identifierKeys(claim.identifier),
      ...(claim.identifier ?? []).flatMap((i) => (i.value ? [i.value] : [])),
    ]),
  ];
}

/** The stored Claim: the member's own Patient and Coverage instead of the provider's ids; a server id. */
export function storedClaim(request: PasRequest, member: Member): Claim {
  const { id: _providerId, meta: _meta, ...claim } = request.claim;
  return {
    ...claim,
    patient: { reference: `Patient/${member.patientId}` },
    insurance: (claim.insurance ?? []).map((i) =>
      i.focal ? { ...i, coverage: { reference: `Coverage/${member.coverage.id}` } } : i,
    ),
  };
}

/** The stored ClaimResponse: the response's, pointing at the stored Claim and the member's Patient. */
export function storedClaimResponse(
  response: ClaimResponse,
  claimId: string,
  member: Pick<Member, 'patientId'>,
): ClaimResponse {
  const { communicationRequest: _inBundleOnly, ...rest } = response;
  return {
    ...rest,
    patient: { reference: `Patient/${member.patientId}` },
    request: { ...response.request, reference: `Claim/${claimId}` },
  };
}
