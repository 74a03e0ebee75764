/** PAS test data: the seed's request Bundle (examples/pas) and variations of it. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, Claim, ClaimResponse, Coverage } from '@medplum/fhirtypes';
import { expect } from 'vitest';
import { getToken, request } from './http.js';
import type { TestServer } from './server.js';

const EXAMPLES = path.join(import.meta.dirname, '..', '..', 'examples');

/** The stores the PAS tests run on: PGlite with the table delivery queue, PostgreSQL with Redis (BullMQ). */
export const PAS_STORES = [
  { store: 'pglite' as const, redis: false },
  { store: 'postgres' as const, redis: true },
];

export function seedRequest(): Bundle {
  return JSON.parse(readFileSync(path.join(EXAMPLES, 'pas', 'seed-request.json'), 'utf8')) as Bundle;
}

export function claimOf(bundle: Bundle): Claim {
  return bundle.entry?.[0]?.resource as Claim;
}

/** The request's focal Coverage (the member's). */
export function coverageOf(bundle: Bundle): Coverage {
  return bundle.entry?.find((e) => e.resource?.resourceType === 'Coverage')?.resource as Coverage;
}

/** The request with its items' codes replaced (CPT), optionally without its supporting documents or for another member. */
export function requestWith(
  options: { codes?: string[]; withoutDocuments?: boolean; identifier?: string; subscriberId?: string } = {},
): Bundle {
  const bundle = seedRequest();
  const claim = claimOf(bundle);
  if (options.codes) {
    const template = claim.item?.[0];
    claim.item = options.codes.map((code, i) => ({
      ...template,
      sequence: i + 1,
      productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code }] },
    }));
  }
  if (options.withoutDocuments) {
    claim.supportingInfo = (claim.supportingInfo ?? []).filter((s) => !s.valueReference);
    bundle.entry = bundle.entry?.filter((e) => e.resource?.resourceType !== 'DocumentReference');
  }
  if (options.identifier) {
    claim.identifier = [{ system: 'urn:test:claim', value: options.identifier }];
    bundle.identifier = { system: 'urn:test:bundle', value: options.identifier };
  }
  if (options.subscriberId) coverageOf(bundle).subscriberId = options.subscriberId;
  return bundle;
}

export interface ItemResult {
  sequence: number;
  code?: string;
  number?: string;
  period?: { start?: string; end?: string };
  adminRef?: string;
}

/** Each item's review action code, authorization number, period and pending reference. */
export function itemResults(response: Bundle): ItemResult[] {
  const cr = response.entry?.[0]?.resource as ClaimResponse;
  return (cr.item ?? []).map((item) => {
    const review = item.adjudication?.[0]?.extension?.find((e) => e.url.endsWith('/extension-reviewAction'));
    const ext = (suffix: string) => item.extension?.find((e) => e.url.endsWith(suffix));
    return {
      sequence: item.itemSequence,
      code: review?.extension?.find((e) => e.url.endsWith('/extension-reviewActionCode'))?.valueCodeableConcept
        ?.coding?.[0]?.code,
      number: review?.extension?.find((e) => e.url === 'number')?.valueString,
      period: ext('/extension-itemPreAuthPeriod')?.valuePeriod,
      adminRef: ext('/extension-administrationReferenceNumber')?.valueString,
    };
  });
}

/** A PAS Claim update of `prior` (its request Bundle): a new Claim naming it in `related.claim`, the prior included. */
export function updateOf(prior: Bundle, identifier: string, change: (claim: Claim) => void): Bundle {
  const bundle = JSON.parse(JSON.stringify(prior)) as Bundle;
  const previous = claimOf(prior);
  const claim = JSON.parse(JSON.stringify(previous)) as Claim;
  claim.id = `update-${identifier}`;
  claim.identifier = [{ system: 'urn:test:claim', value: identifier }];
  claim.related = [{ claim: { reference: `Claim/${previous.id}` } }];
  for (const item of claim.item ?? []) {
    delete item.modifierExtension;
    item.extension = (item.extension ?? []).filter((e) => !e.url.endsWith('/extension-infoChanged'));
  }
  change(claim);
  const entries = (bundle.entry ?? []).filter((e) => e.resource?.resourceType !== 'Claim');
  const priorClaim = JSON.parse(JSON.stringify(previous)) as Claim;
  bundle.entry = [
    { fullUrl: `http://ehr.example.org/fhir/Claim/${claim.id}`, resource: claim },
    ...entries,
    { fullUrl: `http://ehr.example.org/fhir/Claim/${priorClaim.id}`, resource: priorClaim },
  ];
  bundle.identifier = { system: 'urn:test:bundle', value: identifier };
  return bundle;
}

export const CPT = 'http://www.ama-assn.org/go/cpt';

/** A token of a new client of the demo project, registered with `role` (and `scope`, else the role's default). */
export async function demoClientToken(t: TestServer, role: string, scope?: string): Promise<string> {
  const adminToken = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
  const res = await request<{ clientId: string; clientSecret: string }>(
    `${t.url}/admin/projects/${t.demo.projectId}/clients`,
    {
      method: 'POST',
      token: adminToken,
      json: { name: `${role}-${Date.now()}`, role, ...(scope ? { scope } : {}) },
    },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return getToken(t.url, res.body.clientId, res.body.clientSecret);
}
