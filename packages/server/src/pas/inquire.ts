/**
 * `POST /fhir/R4/Claim/$inquire`: a PAS inquiry Bundle (a Claim naming the member's Coverage and the requesting
 * provider, as a query by example) finds the current decision of the member's authorizations. The answer is a
 * Parameters with 0..n `return` PAS inquiry response Bundles (2.2.1). Only the caller's project is searched, and
 * only authorizations the calling client submitted (provider identifiers are public, so naming one proves nothing).
 * Optional filters: an authorization number / PAS reference (the Claim's
 * `authorizationNumber` or `administrationReferenceNumber` extension, or an identifier), item codes (other than
 * `not-applicable`) and service dates (`billablePeriod`, items' `servicedDate`/`servicedPeriod`: a request matches
 * when one of its service date ranges overlaps one of the inquiry's).
 */
import type { Bundle, Claim, ClaimResponse, Parameters, Period } from '@medplum/fhirtypes';
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

/** A date range as comparable text: `[start, end]`, an open end the lowest or highest possible. */
type Range = [string, string];

/**
 * A Claim's service dates (X12 278 DTP, as PAS maps them): `billablePeriod` and each item's `servicedDate` or
 * `servicedPeriod`, by day. An end sorts after every date it is a prefix of, so `2026-03` ends after `2026-03-31`.
 */
export function serviceRanges(claim: Claim | undefined): Range[] {
  const periods = [
    claim?.billablePeriod,
    ...(claim?.item ?? []).map(
      (i) => i.servicedPeriod ?? (i.servicedDate ? { start: i.servicedDate, end: i.servicedDate } : undefined),
    ),
  ];
  return periods
    .filter((p): p is Period => !!(p?.start || p?.end))
    .map((p) => [p.start?.slice(0, 10) ?? '', `${p.end?.slice(0, 10) ?? ''}\uffff`]);
}

/** True when some inquired range overlaps some requested one; a request without service dates is not excluded. */
export function datesMatch(inquired: Range[], requested: Range[]): boolean {
  if (inquired.length === 0 || requested.length === 0) return true;
  return inquired.some(([s1, e1]) => requested.some(([s2, e2]) => s1 <= e2 && s2 <= e1));
}

function matches(row: AuthorizationRow, refs: string[], codes: string[], dates: Range[]): boolean {
  if (!datesMatch(dates, serviceRanges(row.requestBundle.entry?.[0]?.resource as Claim | undefined))) return false;
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
  const dates = serviceRanges(request.claim);
  const rows = (await findByMember(services.db, repo.access.projectId, request.memberId, caller.clientId)).filter(
    (row) => matches(row, refs, codes, dates),
  );
  const bundles = rows.map(inquiryResponse).filter((b): b is Bundle => !!b);
  return {
    resourceType: 'Parameters',
    ...(bundles.length ? { parameter: bundles.map((resource) => ({ name: 'return', resource })) } : {}),
  };
}
