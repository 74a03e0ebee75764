/**
 * `POST /fhir/R4/Claim/$inquire`: a PAS inquiry Bundle (a Claim naming the member's Coverage and the requesting
 * provider, as a query by example) finds the current decision of the member's authorizations. The answer is a
 * Parameters with 0..n `return` PAS inquiry response Bundles (2.2.1). Only the caller's project is searched, and
 * only authorizations the calling client submitted (provider identifiers are public, so naming one proves nothing).
 * Optional filters: an authorization number / PAS reference (the Claim's
 * `authorizationNumber` or `administrationReferenceNumber` extension, or an identifier) and item codes (other than
 * `not-applicable`).
 */
import type { Bundle, ClaimResponse, Parameters } from '@medplum/fhirtypes';
import type { Caller } from '../auth/access-token.js';
import type { Repository } from '../fhir/repository.js';
import { invalidIssues, locatedIssues } from '../infra/errors.js';
import type { Services } from '../services.js';
import { requirePas } from './access.js';
import { EXT, PROFILE } from './constants.js';
import { findByMember, type AuthorizationRow } from './store.js';
import { validateRequestBundle, type PasRequest } from './validate-request.js';

export interface InquireInput {
  services: Services;
  caller: Caller;
  repo: Repository;
  body: unknown;
}

/** Authorization numbers the inquiry names, if any. */
function referencesOf(request: PasRequest): string[] {
  const claim = request.claim;
  const fromExtensions = [...(claim.extension ?? []), ...(claim.item ?? []).flatMap((i) => i.extension ?? [])]
    .filter((e) => e.url === EXT.authorizationNumber || e.url === EXT.administrationReferenceNumber)
    .map((e) => e.valueString)
    .filter((v): v is string => !!v);
  return fromExtensions;
}

function codesOf(request: PasRequest): string[] {
  return (request.claim.item ?? [])
    .flatMap((i) => i.productOrService?.coding ?? [])
    .map((c) => c.code)
    .filter((c): c is string => !!c && c !== 'not-applicable');
}

function matches(row: AuthorizationRow, refs: string[], codes: string[]): boolean {
  if (refs.length) {
    const numbers = new Set([row.preAuthRef, ...row.claimIdentifiers]);
    for (const entry of row.responseBundle?.entry ?? []) {
      const cr = entry.resource as ClaimResponse | undefined;
      if (cr?.resourceType !== 'ClaimResponse') continue;
      for (const item of cr.item ?? [])
        for (const adj of item.adjudication ?? [])
          for (const ext of adj.extension ?? [])
            for (const sub of ext.extension ?? [])
              if (sub.url === 'number' && sub.valueString) numbers.add(sub.valueString);
    }
    if (!refs.some((r) => numbers.has(r) || [...numbers].some((n) => r.startsWith(`PEND-${n}`)))) return false;
  }
  if (codes.length) {
    const claim = row.requestBundle.entry?.[0]?.resource as {
      item?: { productOrService?: { coding?: { code?: string }[] } }[];
    };
    const requested = new Set((claim?.item ?? []).flatMap((i) => i.productOrService?.coding ?? []).map((c) => c.code));
    if (!codes.some((c) => requested.has(c))) return false;
  }
  return true;
}

function inquiryResponse(row: AuthorizationRow): Bundle | undefined {
  if (!row.responseBundle) return undefined;
  return { ...row.responseBundle, meta: { profile: [PROFILE.inquiryResponseBundle] } };
}

export async function inquirePriorAuthorization(input: InquireInput): Promise<Parameters> {
  const { services, caller, repo } = input;
  requirePas('inquire', caller, repo.access);
  const validation = validateRequestBundle(input.body, { items: false });
  if (!validation.ok) throw invalidIssues('pas.invalid-request', locatedIssues(validation.problems));
  const { request } = validation;
  const refs = referencesOf(request);
  const codes = codesOf(request);
  const rows = (await findByMember(services.db, repo.access.projectId, request.memberId, caller.clientId)).filter(
    (row) => matches(row, refs, codes),
  );
  const bundles = rows.map(inquiryResponse).filter((b): b is Bundle => !!b);
  return {
    resourceType: 'Parameters',
    ...(bundles.length ? { parameter: bundles.map((resource) => ({ name: 'return', resource })) } : {}),
  };
}
