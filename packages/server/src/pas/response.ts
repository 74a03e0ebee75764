/**
 * Builds the PAS response: the ClaimResponse (PASClaimResponse) from the current decision of every item, and the
 * response Bundle led by it (spec-30) with every resource it references, echoed with the request's `fullUrl`
 * (spec-33), plus a CommunicationRequest per pended item that needs documentation (PAS "additional information").
 */
import { randomUUID } from 'node:crypto';
import type {
  Bundle,
  BundleEntry as FhirBundleEntry,
  ClaimResponse,
  ClaimResponseItem,
  CommunicationRequest,
  Extension,
  Organization,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { reachableFrom, type BundleEntry } from './bundle-references.js';
import {
  ADJUDICATION_CATEGORY_SYSTEM,
  EXT,
  PROFILE,
  REVIEW_ACTION_SYSTEM,
  REVIEW_ACTIONS,
  REVIEW_REASON_SYSTEM,
} from './constants.js';
import type { Decision, ItemDecision } from './decision.js';
import type { PasRequest } from './validate-request.js';

export interface ResponseInput {
  request: PasRequest;
  /** The ClaimResponse's id (also the authorization's id in the store). */
  id: string;
  preAuthRef: string;
  /** Every item's current decision (an update's response covers all items, spec-46). */
  decision: Decision;
  fhirBase: string;
  now: Date;
  /** The reviewer's decision rather than a bot's. */
  humanReviewed?: boolean;
}

export interface BuiltResponse {
  claimResponse: ClaimResponse;
  bundle: Bundle;
}

const LOINC = 'http://loinc.org';
const CERTIFIED = new Set(['A1', 'A2', 'A6']);

/** A stable number for each item; what the bot gave wins. */
export function authorizationNumberOf(preAuthRef: string, item: ItemDecision): string | undefined {
  if (item.authorizationNumber) return item.authorizationNumber;
  return CERTIFIED.has(item.action) ? `${preAuthRef}-${item.sequence}` : undefined;
}

export function administrationReferenceOf(preAuthRef: string, item: ItemDecision): string | undefined {
  return item.action === 'A4' ? `PEND-${preAuthRef}-${item.sequence}` : undefined;
}

function reviewAction(preAuthRef: string, item: ItemDecision): Extension {
  const number = authorizationNumberOf(preAuthRef, item);
  return {
    url: EXT.reviewAction,
    extension: [
      {
        url: EXT.reviewActionCode,
        valueCodeableConcept: {
          coding: [{ system: REVIEW_ACTION_SYSTEM, code: item.action, display: REVIEW_ACTIONS[item.action] }],
        },
      },
      ...(number ? [{ url: 'number', valueString: number }] : []),
      ...(item.reasonCodes ?? []).map((code) => ({
        url: 'reasonCode',
        valueCodeableConcept: { coding: [{ system: REVIEW_REASON_SYSTEM, code }] },
      })),
    ],
  };
}

function submitted() {
  return { coding: [{ system: ADJUDICATION_CATEGORY_SYSTEM, code: 'submitted' }] };
}

function itemExtensions(input: ResponseInput, item: ItemDecision, traceNumber: Extension | undefined): Extension[] {
  const today = input.now.toISOString().slice(0, 10);
  const certified = CERTIFIED.has(item.action);
  const adminRef = administrationReferenceOf(input.preAuthRef, item);
  return [
    ...(traceNumber ? [traceNumber] : []),
    ...(certified ? [{ url: EXT.itemPreAuthIssueDate, valueDate: item.issueDate ?? today }] : []),
    ...(certified && item.period ? [{ url: EXT.itemPreAuthPeriod, valuePeriod: item.period }] : []),
    ...(adminRef ? [{ url: EXT.administrationReferenceNumber, valueString: adminRef }] : []),
  ];
}

function communicationRequestFor(input: ResponseInput, item: ItemDecision): CommunicationRequest | undefined {
  if (item.action !== 'A4' || !item.documentation?.length) return undefined;
  const { claim } = input.request;
  return {
    resourceType: 'CommunicationRequest',
    id: randomUUID(),
    status: 'active',
    identifier: [{ value: administrationReferenceOf(input.preAuthRef, item) as string }],
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/communication-category', code: 'instruction' }] },
    ],
    ...(claim.patient ? { subject: claim.patient } : {}),
    about: [{ reference: claimReference(input.request) }],
    authoredOn: input.now.toISOString(),
    ...(claim.insurer ? { sender: claim.insurer } : {}),
    ...(claim.provider ? { recipient: [claim.provider] } : {}),
    payload: item.documentation.map((doc) => ({
      extension: [
        {
          url: EXT.paLineNumber,
          valuePositiveInt: item.sequence,
        },
      ],
      contentString: doc.text ?? doc.display ?? `Documentation ${doc.system ?? LOINC}|${doc.code}`,
    })),
    reasonCode: item.documentation.map((doc) => ({
      coding: [{ system: doc.system ?? LOINC, code: doc.code, ...(doc.display ? { display: doc.display } : {}) }],
      ...(doc.text ? { text: doc.text } : {}),
    })),
  };
}

/** How the response refers to the request's Claim: its fullUrl's `Type/id`, or the fullUrl itself. */
export function claimReference(request: PasRequest): string {
  const { claimEntry } = request;
  return claimEntry.resource.id ? `Claim/${claimEntry.resource.id}` : claimEntry.fullUrl;
}

export function outcomeOf(decision: Decision): 'complete' | 'partial' {
  return decision.items.some((i) => i.action === 'A4') ? 'partial' : 'complete';
}

function periodUnion(items: ItemDecision[]): { start?: string; end?: string } | undefined {
  const periods = items
    .filter((i) => CERTIFIED.has(i.action) && i.period)
    .map((i) => i.period as { start?: string; end?: string });
  if (periods.length === 0) return undefined;
  const starts = periods
    .map((p) => p.start)
    .filter((d): d is string => !!d)
    .sort();
  const ends = periods
    .map((p) => p.end)
    .filter((d): d is string => !!d)
    .sort();
  return { ...(starts[0] ? { start: starts[0] } : {}), ...(ends.length ? { end: ends[ends.length - 1] } : {}) };
}

export function buildResponse(input: ResponseInput): BuiltResponse {
  const { request, decision } = input;
  const { claim } = request;
  const bySequence = new Map((claim.item ?? []).map((i) => [i.sequence, i]));
  const communicationRequests: CommunicationRequest[] = [];
  const items: ClaimResponseItem[] = [];
  const addItems: NonNullable<ClaimResponse['addItem']> = [];
  const notes: NonNullable<ClaimResponse['processNote']> = [];
  for (const item of [...decision.items].sort((a, b) => a.sequence - b.sequence)) {
    const trace = bySequence.get(item.sequence)?.extension?.find((e) => e.url === EXT.itemTraceNumber);
    const extension = itemExtensions(input, item, trace);
    const noteNumber = item.note
      ? notes.push({ number: notes.length + 1, type: 'display', text: item.note })
      : undefined;
    items.push({
      ...(extension.length ? { extension } : {}),
      itemSequence: item.sequence,
      ...(noteNumber ? { noteNumber: [noteNumber] } : {}),
      adjudication: [{ extension: [reviewAction(input.preAuthRef, item)], category: submitted() }],
    });
    if (item.action === 'A6' && item.authorized) {
      // spec-36/37: the requested item says A6; what is authorized instead is an addItem linked by itemSequence.
      const { productOrService, quantity, unitPrice } = item.authorized;
      const asked = bySequence.get(item.sequence)?.productOrService;
      addItems.push({
        itemSequence: [item.sequence],
        productOrService: productOrService ? { coding: [productOrService] } : (asked ?? { text: 'As requested' }),
        ...(quantity !== undefined ? { quantity: { value: quantity } } : {}),
        ...(unitPrice !== undefined ? { unitPrice: { value: unitPrice, currency: 'USD' } } : {}),
        adjudication: [{ extension: [reviewAction(input.preAuthRef, item)], category: submitted() }],
      });
    }
    const cr = communicationRequestFor(input, item);
    if (cr) communicationRequests.push(cr);
  }
  if (decision.note) notes.push({ number: notes.length + 1, type: 'display', text: decision.note });
  const period = periodUnion(decision.items);
  const claimResponse: ClaimResponse = {
    resourceType: 'ClaimResponse',
    id: input.id,
    meta: { profile: [PROFILE.claimResponse] },
    ...(input.humanReviewed
      ? {
          extension: [
            { url: EXT.claimResponseReviewer, extension: [{ url: 'wasHumanReviewedFlag', valueBoolean: true }] },
          ],
        }
      : {}),
    ...(claim.identifier?.length ? { identifier: claim.identifier } : {}),
    status: 'active',
    type: claim.type,
    use: 'preauthorization',
    patient: claim.patient,
    created: input.now.toISOString(),
    insurer: claim.insurer as Reference<Organization>,
    ...(claim.provider ? { requestor: claim.provider } : {}),
    request: {
      reference: claimReference(request),
      ...(claim.identifier?.[0] ? { identifier: claim.identifier[0] } : {}),
    },
    outcome: outcomeOf(decision),
    disposition: describe(decision),
    preAuthRef: input.preAuthRef,
    ...(period ? { preAuthPeriod: period } : {}),
    item: items,
    ...(addItems.length ? { addItem: addItems } : {}),
    ...(notes.length ? { processNote: notes } : {}),
    ...(communicationRequests.length
      ? { communicationRequest: communicationRequests.map((c) => ({ reference: `urn:uuid:${c.id}` })) }
      : {}),
  };
  return { claimResponse, bundle: responseBundle(input, claimResponse, communicationRequests) };
}

function describe(decision: Decision): string {
  const counts = new Map<string, number>();
  for (const item of decision.items) counts.set(item.action, (counts.get(item.action) ?? 0) + 1);
  return [...counts].map(([action, n]) => `${n} ${REVIEW_ACTIONS[action as keyof typeof REVIEW_ACTIONS]}`).join(', ');
}

function responseBundle(input: ResponseInput, claimResponse: ClaimResponse, extra: CommunicationRequest[]): Bundle {
  const { request } = input;
  // Everything the ClaimResponse references, found (transitively) among the request's entries, keeps its fullUrl.
  const virtual: BundleEntry = { index: -1, fullUrl: '', resource: claimResponse as BundleEntry['resource'] };
  const { reached } = reachableFrom([virtual, ...request.entries], virtual);
  const echoed = reached.filter((e) => e !== virtual).sort((a, b) => a.index - b.index);
  const entry: FhirBundleEntry[] = [
    { fullUrl: `${input.fhirBase}/ClaimResponse/${claimResponse.id}`, resource: claimResponse },
    ...echoed.map((e) => ({ fullUrl: e.fullUrl, resource: e.resource as Resource })),
    ...extra.map((c) => ({ fullUrl: `urn:uuid:${c.id}`, resource: c })),
  ];
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { profile: [PROFILE.responseBundle] },
    ...(request.bundle.identifier ? { identifier: request.bundle.identifier } : {}),
    type: 'collection',
    timestamp: input.now.toISOString(),
    entry,
  };
}
