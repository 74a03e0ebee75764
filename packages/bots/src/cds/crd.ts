/**
 * Da Vinci CRD helpers for bot authors: the coverage-information extension (CRD 2.2.1
 * StructureDefinition ext-coverage-information) and the `update` systemAction that carries it (cards.md,
 * Coverage Information response type). Pure; safe to bundle into a bot.
 */
import type { CodeableConcept, Coding, Extension, Period, Quantity, Reference, Resource } from '@medplum/fhirtypes';
import type { CdsIssue } from './issues.js';
import { COVERAGE_INFORMATION_URL } from './response-rules.js';
import type { CdsAction } from './types.js';
import { randomUuid } from './util.js';

/** Codes of the CRD 2.2.1 coverageAssertionReasons value set (system below). */
export const CRD_TEMP_SYSTEM = 'http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp';
const REASON_CODES = [
  'gold-card',
  'no-member-found',
  'no-active-coverage',
  'coverage-not-found',
  'auth-out-network',
  'technical',
];

export type CoveredCode = 'covered' | 'not-covered' | 'conditional' | 'indeterminate';
export type PaNeededCode = 'no-auth' | 'auth-needed' | 'satisfied' | 'performpa' | 'conditional' | 'indeterminate';
export type DocNeededCode = 'clinical' | 'admin' | 'patient' | 'conditional' | 'indeterminate';
export type DocPurposeCode = 'withpa' | 'withclaim' | 'withorder' | 'retain-doc' | 'OTH';
export type InfoNeededCode = 'performer' | 'location' | 'timeframe' | 'contract-window' | 'detail-code' | 'OTH';

export interface CoverageInformationDetail {
  category: 'cat-limitation' | 'cat-decisional' | 'cat-other';
  code: CodeableConcept;
  value: boolean | string | Quantity | Period;
  qualification?: string;
}

export interface CoverageInformationInput {
  /** The client's Coverage: `Coverage/123` or a Reference. */
  coverage: string | Reference;
  covered: CoveredCode;
  paNeeded?: PaNeededCode;
  docNeeded?: DocNeededCode[];
  docPurpose?: DocPurposeCode[];
  infoNeeded?: InfoNeededCode[];
  billingCode?: Coding[];
  /** A code of coverageAssertionReasons (e.g. `gold-card`) or any CodeableConcept (then with `text`). */
  reason?: (string | CodeableConcept)[];
  detail?: CoverageInformationDetail[];
  questionnaire?: string[];
  /** YYYY-MM-DD; today (UTC) when absent. */
  date?: string;
  /** Generated (a UUID) when absent. Reuse it for the same coverage across repetitions (resp-32). */
  coverageAssertionId?: string;
  satisfiedPaId?: string;
  expiryDate?: string;
}

/** The crd-ci-q* invariants (Da Vinci CRD coverage-information extension) the input breaks, by input field. */
export function checkCoverageInformation(input: CoverageInformationInput): CdsIssue[] {
  const issues: CdsIssue[] = [];
  const fail = (path: string, message: string): number => issues.push({ path, message });
  const docNeeded = input.docNeeded ?? [];
  const reasons = (input.reason ?? []).map(toReason);
  if (input.questionnaire?.length && docNeeded.length === 0)
    fail('questionnaire', 'questionnaire needs docNeeded (crd-ci-q1)');
  if (input.covered === 'not-covered' && input.paNeeded) fail('paNeeded', 'not-covered has no paNeeded (crd-ci-q2)');
  const codes = [input.covered, input.paNeeded, ...docNeeded];
  if (codes.includes('conditional') && !input.infoNeeded?.length) {
    fail('infoNeeded', 'A conditional answer needs infoNeeded (crd-ci-q3)');
  }
  if ((input.paNeeded === 'satisfied' || input.paNeeded === 'no-auth') && input.docPurpose?.includes('withpa')) {
    fail('docPurpose', 'withpa is not a purpose when prior auth is satisfied or not needed (crd-ci-q4)');
  }
  if ((input.paNeeded === 'satisfied') !== Boolean(input.satisfiedPaId)) {
    fail('satisfiedPaId', 'satisfiedPaId is given exactly when paNeeded is satisfied (crd-ci-q5)');
  }
  if (input.infoNeeded?.includes('OTH') && reasons.length === 0)
    fail('reason', 'infoNeeded OTH needs a reason (crd-ci-q6)');
  reasons.forEach((r, i) => {
    const known = r.coding?.some((c) => c.system === CRD_TEMP_SYSTEM && REASON_CODES.includes(c.code ?? ''));
    if (!known && !r.text) fail(`reason[${i}]`, 'A reason outside coverageAssertionReasons needs text (crd-ci-q7)');
  });
  if (codes.includes('indeterminate') && reasons.length === 0) {
    fail('reason', 'An indeterminate answer needs a reason (crd-ci-q9)');
  }
  for (const [field, value] of Object.entries({ date: input.date, expiryDate: input.expiryDate })) {
    if (value !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(value)) fail(field, `${field} must be YYYY-MM-DD`);
  }
  if (typeof input.coverage === 'string' ? !input.coverage : !input.coverage.reference) {
    fail('coverage', 'coverage must reference the Coverage (no coverage, no coverage-information)');
  }
  return issues;
}

/** Builds one coverage-information repetition; throws a TypeError listing every broken invariant. */
export function coverageInformation(input: CoverageInformationInput): Extension {
  const issues = checkCoverageInformation(input);
  if (issues.length > 0) {
    throw new TypeError(`Invalid coverage information: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
  const parts: Extension[] = [];
  const coverage = typeof input.coverage === 'string' ? { reference: input.coverage } : input.coverage;
  parts.push({ url: 'coverage', valueReference: coverage });
  parts.push({ url: 'covered', valueCode: input.covered });
  if (input.paNeeded) parts.push({ url: 'pa-needed', valueCode: input.paNeeded });
  for (const code of input.docNeeded ?? []) parts.push({ url: 'doc-needed', valueCode: code });
  for (const code of input.docPurpose ?? []) parts.push({ url: 'doc-purpose', valueCode: code });
  for (const code of input.infoNeeded ?? []) parts.push({ url: 'info-needed', valueCode: code });
  for (const coding of input.billingCode ?? []) parts.push({ url: 'billingCode', valueCoding: coding });
  for (const reason of input.reason ?? []) parts.push({ url: 'reason', valueCodeableConcept: toReason(reason) });
  for (const detail of input.detail ?? []) parts.push(detailExtension(detail));
  for (const q of input.questionnaire ?? []) parts.push({ url: 'questionnaire', valueCanonical: q });
  parts.push({ url: 'date', valueDate: input.date ?? new Date().toISOString().slice(0, 10) });
  parts.push({ url: 'coverage-assertion-id', valueString: input.coverageAssertionId ?? randomUuid() });
  if (input.satisfiedPaId) parts.push({ url: 'satisfied-pa-id', valueString: input.satisfiedPaId });
  if (input.expiryDate) parts.push({ url: 'expiry-date', valueDate: input.expiryDate });
  return { url: COVERAGE_INFORMATION_URL, extension: parts };
}

function toReason(reason: string | CodeableConcept): CodeableConcept {
  return typeof reason === 'string' ? { coding: [{ system: CRD_TEMP_SYSTEM, code: reason }] } : reason;
}

function detailExtension(detail: CoverageInformationDetail): Extension {
  const value: Extension = { url: 'value' };
  if (typeof detail.value === 'boolean') value.valueBoolean = detail.value;
  else if (typeof detail.value === 'string') value.valueString = detail.value;
  else if ('value' in detail.value || 'unit' in detail.value || 'code' in detail.value)
    value.valueQuantity = detail.value;
  else value.valuePeriod = detail.value as Period;
  const parts: Extension[] = [
    { url: 'category', valueCodeableConcept: { coding: [{ system: CRD_TEMP_SYSTEM, code: detail.category }] } },
    { url: 'code', valueCodeableConcept: detail.code },
    value,
  ];
  if (detail.qualification) parts.push({ url: 'qualification', valueString: detail.qualification });
  return { url: 'detail', extension: parts };
}

/**
 * The `update` systemAction for a request resource (ServiceRequest, MedicationRequest, Appointment, …): a copy of
 * the order whose only change is its coverage-information extensions (resp-37). Repetitions for a coverage that
 * the new ones also cover are replaced; others are kept.
 */
export function coverageInformationAction(
  orderResource: Resource,
  extension: Extension | Extension[],
  description?: string,
): CdsAction {
  const added = Array.isArray(extension) ? extension : [extension];
  const replaced = new Set(added.map(coverageOf));
  const existing = ((orderResource as { extension?: Extension[] }).extension ?? []).filter(
    (e) => e.url !== COVERAGE_INFORMATION_URL || !replaced.has(coverageOf(e)),
  );
  const resource = { ...orderResource, extension: [...existing, ...added] } as Resource;
  const label = `${orderResource.resourceType}${orderResource.id ? `/${orderResource.id}` : ''}`;
  return { type: 'update', description: description ?? `Coverage information for ${label}`, resource };
}

function coverageOf(extension: Extension): string | undefined {
  return extension.extension?.find((e) => e.url === 'coverage')?.valueReference?.reference;
}
