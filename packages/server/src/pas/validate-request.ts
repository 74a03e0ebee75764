/**
 * Checks a PAS request Bundle (PASRequestBundle, spec-11..23) and reports every problem at once, each with the
 * FHIRPath of the element at fault, so that one OperationOutcome can list them all (spec-35). Business questions
 * (is the member covered, is the service approved) are not asked here: they belong to the ClaimResponse.
 */
import type { Bundle, Claim, ClaimItem, Coverage } from '@medplum/fhirtypes';
import type { LocatedProblem } from '../infra/errors.js';
import { reachableFrom, resolveReference, type BundleEntry } from './bundle-references.js';
import { CERTIFICATION_TYPE_SYSTEM, EXT, ITEM_CODE_SYSTEMS } from './constants.js';

export interface PasRequest {
  bundle: Bundle;
  entries: BundleEntry[];
  claim: Claim;
  claimEntry: BundleEntry;
  coverage: Coverage;
  coverageEntry: BundleEntry;
  /** The focal Coverage's member id (subscriber id, or an identifier typed MB). */
  memberId: string;
  /** For a PASClaimUpdate: the earlier Claim it points at (`related.claim`), included in the Bundle. */
  priorClaim?: Claim;
  /** The Claim cancels the whole request (Claim-level certificationType 3). */
  cancelsAll: boolean;
}

export type ValidationResult = { ok: true; request: PasRequest } | { ok: false; problems: LocatedProblem[] };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `Bundle` as the body, or a `Parameters` whose `resource` parameter holds it (the operation's formal input). */
export function requestBundleOf(body: unknown): unknown {
  if (isRecord(body) && body.resourceType === 'Parameters' && Array.isArray(body.parameter)) {
    const param = (body.parameter as unknown[]).find((p) => isRecord(p) && p.name === 'resource');
    return isRecord(param) ? param.resource : undefined;
  }
  return body;
}

export function hasCertificationCancel(element: { extension?: { url?: string }[] } | undefined): boolean {
  return (element?.extension ?? []).some(
    (e) =>
      e.url === EXT.certificationType &&
      (
        (e as { valueCodeableConcept?: { coding?: { system?: string; code?: string }[] } }).valueCodeableConcept
          ?.coding ?? []
      ).some((c) => c.code === '3' && (!c.system || c.system === CERTIFICATION_TYPE_SYSTEM)),
  );
}

/** The member id on a Coverage: `subscriberId`, else an identifier of type MB (member number). */
export function memberIdOf(coverage: Coverage): string | undefined {
  if (coverage.subscriberId) return coverage.subscriberId;
  return coverage.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MB'))?.value;
}

export interface ValidationOptions {
  /** Check item codes and sequences (not for inquiries, whose items may be `not-applicable`). */
  items?: boolean;
}

export function validateRequestBundle(body: unknown, options: ValidationOptions = {}): ValidationResult {
  const problems: LocatedProblem[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });
  const bundle = requestBundleOf(body);
  if (!isRecord(bundle) || bundle.resourceType !== 'Bundle') {
    problem('Bundle', 'The body must be a PAS request Bundle, or a Parameters with the Bundle as parameter "resource"');
    return { ok: false, problems };
  }
  if (bundle.type !== 'collection') problem('Bundle.type', 'Bundle.type must be "collection"');
  if (!isRecord(bundle.identifier) || typeof bundle.identifier.value !== 'string' || !bundle.identifier.value)
    problem('Bundle.identifier', 'Bundle.identifier with a value is required');
  if (typeof bundle.timestamp !== 'string' || !bundle.timestamp)
    problem('Bundle.timestamp', 'Bundle.timestamp is required');
  const rawEntries = Array.isArray(bundle.entry) ? (bundle.entry as unknown[]) : [];
  if (rawEntries.length === 0) {
    problem('Bundle.entry', 'The Bundle has no entries: its first entry must be the Claim');
    return { ok: false, problems };
  }

  const entries: BundleEntry[] = [];
  const seen = new Map<string, number>();
  rawEntries.forEach((raw, index) => {
    const at = `Bundle.entry[${index}]`;
    if (!isRecord(raw)) return problem(at, 'An entry must be an object');
    for (const key of ['request', 'response', 'search'])
      if (key in raw) problem(`${at}.${key}`, `A PAS request Bundle entry has no ${key}`);
    const resource = raw.resource;
    if (!isRecord(resource) || typeof resource.resourceType !== 'string' || !resource.resourceType) {
      return problem(`${at}.resource`, 'Each entry needs a resource with a resourceType');
    }
    if (typeof raw.fullUrl !== 'string' || !raw.fullUrl) problem(`${at}.fullUrl`, 'Each entry needs a fullUrl');
    const fullUrl = typeof raw.fullUrl === 'string' ? raw.fullUrl : '';
    for (const key of [
      fullUrl,
      typeof resource.id === 'string' ? `${resource.resourceType}/${resource.id}` : '',
    ].filter(Boolean)) {
      const first = seen.get(key);
      if (first !== undefined && first !== index) {
        problem(at, `${key} appears more than once (also Bundle.entry[${first}]): each resource is included once`);
      } else seen.set(key, index);
    }
    entries.push({ index, fullUrl, resource: resource as BundleEntry['resource'] });
  });

  const claimEntry = entries.find((e) => e.index === 0);
  if (!claimEntry || claimEntry.resource.resourceType !== 'Claim') {
    problem('Bundle.entry[0].resource', 'The first entry must be the Claim');
    return { ok: false, problems };
  }
  const claim = claimEntry.resource as unknown as Claim;
  const at = 'Bundle.entry[0].resource';
  if (claim.use !== 'preauthorization') problem(`${at}.use`, 'Claim.use must be "preauthorization"');
  if (claim.status !== 'active') problem(`${at}.status`, 'Claim.status must be "active"');
  if (!claim.insurer) problem(`${at}.insurer`, 'Claim.insurer is required');
  if (!claim.provider) problem(`${at}.provider`, 'Claim.provider is required');
  if (!claim.patient) problem(`${at}.patient`, 'Claim.patient is required');

  // spec-66: an included earlier Claim that is itself an update does not bring the Claim it updated.
  const priorsOwnPrior = (path: string) =>
    !path.startsWith('Bundle.entry[0].') && /\.related\[\d+\]\.claim$/.test(path);
  for (const ref of reachableFrom(entries, claimEntry).dangling.filter((r) => !priorsOwnPrior(r.path))) {
    problem(ref.path, `Reference "${ref.reference}" does not resolve to an entry of the Bundle (spec-13)`);
  }

  let priorClaim: Claim | undefined;
  const related = claim.related?.find((r) => r.claim?.reference);
  if (related?.claim?.reference) {
    const target = resolveReference(entries, related.claim.reference);
    if (target?.resource.resourceType === 'Claim' && target !== claimEntry)
      priorClaim = target.resource as unknown as Claim;
  }

  const cancelsAll = hasCertificationCancel(claim);
  let coverage: Coverage | undefined;
  let coverageEntry: BundleEntry | undefined;
  let memberId: string | undefined;
  const insurance = Array.isArray(claim.insurance) ? claim.insurance : [];
  const focalIndex = insurance.findIndex((i) => i?.focal === true);
  if (focalIndex < 0) problem(`${at}.insurance`, 'The Claim needs an insurance with focal = true');
  else {
    const ref = insurance[focalIndex]?.coverage?.reference;
    const target = ref ? resolveReference(entries, ref) : undefined;
    if (!ref) problem(`${at}.insurance[${focalIndex}].coverage`, 'The focal insurance must reference its Coverage');
    else if (target && target.resource.resourceType !== 'Coverage')
      problem(
        `${at}.insurance[${focalIndex}].coverage`,
        `"${ref}" is a ${target.resource.resourceType}, not a Coverage`,
      );
    else if (target) {
      coverage = target.resource as unknown as Coverage;
      coverageEntry = target;
      memberId = memberIdOf(coverage);
      if (!memberId)
        problem(
          `Bundle.entry[${target.index}].resource.subscriberId`,
          'The focal Coverage names no member: give subscriberId or an identifier of type MB',
        );
    }
  }

  const items: ClaimItem[] = Array.isArray(claim.item) ? claim.item : [];
  const checkItems = options.items !== false;
  if (checkItems && items.length === 0 && !cancelsAll) problem(`${at}.item`, 'The Claim has no items');
  const sequences = new Set<number>();
  (checkItems ? items : []).forEach((item, i) => {
    const itemAt = `${at}.item[${i}]`;
    if (!Number.isInteger(item?.sequence) || (item.sequence as number) < 1)
      problem(`${itemAt}.sequence`, 'item.sequence must be a positive integer');
    else if (sequences.has(item.sequence)) problem(`${itemAt}.sequence`, `item.sequence ${item.sequence} is repeated`);
    else sequences.add(item.sequence);
    const codings = item?.productOrService?.coding ?? [];
    if (codings.length === 0) {
      problem(`${itemAt}.productOrService`, 'item.productOrService needs a CPT, HCPCS Level II or NDC coding');
    }
    codings.forEach((coding, c) => {
      const known = ITEM_CODE_SYSTEMS[coding.system ?? ''];
      const codingAt = `${itemAt}.productOrService.coding[${c}]`;
      if (!known) {
        problem(
          `${codingAt}.system`,
          `"${coding.system ?? ''}" is not a code system for PAS items (CPT http://www.ama-assn.org/go/cpt, HCPCS Level II https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets, NDC http://hl7.org/fhir/sid/ndc)`,
        );
      } else if (!known.pattern.test(coding.code ?? '')) {
        problem(`${codingAt}.code`, `"${coding.code ?? ''}" is not a ${known.name} code`);
      }
    });
  });

  if (problems.length > 0 || !coverage || !coverageEntry || !memberId) return { ok: false, problems };
  return {
    ok: true,
    request: {
      bundle: bundle as unknown as Bundle,
      entries,
      claim,
      claimEntry,
      coverage,
      coverageEntry,
      memberId,
      cancelsAll,
      ...(priorClaim ? { priorClaim } : {}),
    },
  };
}
