/**
 * The Da Vinci CRD coverage-information system action (CRD 2.2.1 StructureDefinition ext-coverage-information,
 * standards-notes §3.6): an `update` of the order that adds the extension, leaving every other element alone
 * (resp-37). Replaced by the cds coverageInformation builder once that exists.
 */
import type { Extension, Resource } from '@medplum/fhirtypes';
import type { CdsAction } from '../cds/types.js';
import type { CoverageEvent } from './types.js';

export const COVERAGE_INFORMATION_URL =
  'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';
const CRD_TEMP = 'http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp';

export interface CoverageAssertion {
  outcome: Omit<CoverageEvent, 'type' | 'billingCode'>;
  billingCodes: { system: string; code: string; display?: string }[];
  coverageReference: string;
  assertionId: string;
  /** YYYY-MM-DD */
  date: string;
}

export function coverageInformationExtension(a: CoverageAssertion): Extension {
  const o = a.outcome;
  const ext: Extension[] = [
    { url: 'coverage', valueReference: { reference: a.coverageReference } },
    { url: 'covered', valueCode: o.covered },
  ];
  // crd-ci-q2: a not-covered assertion carries no pa-needed.
  if (o.paNeeded && o.covered !== 'not-covered') ext.push({ url: 'pa-needed', valueCode: o.paNeeded });
  for (const code of o.docNeeded ?? []) ext.push({ url: 'doc-needed', valueCode: code });
  for (const code of o.docPurpose ?? []) ext.push({ url: 'doc-purpose', valueCode: code });
  for (const code of o.infoNeeded ?? []) ext.push({ url: 'info-needed', valueCode: code });
  for (const coding of a.billingCodes) ext.push({ url: 'billingCode', valueCoding: coding });
  for (const r of o.reason ?? []) {
    ext.push({
      url: 'reason',
      valueCodeableConcept: {
        ...(r.code ? { coding: [{ system: CRD_TEMP, code: r.code }] } : {}),
        ...(r.text ? { text: r.text } : {}),
      },
    });
  }
  for (const d of o.detail ?? []) {
    const value: Extension =
      typeof d.value === 'boolean'
        ? { url: 'value', valueBoolean: d.value }
        : typeof d.value === 'number'
          ? { url: 'value', valueQuantity: { value: d.value } }
          : d.value.startsWith('https://')
            ? { url: 'value', valueUrl: d.value }
            : { url: 'value', valueString: d.value };
    ext.push({
      url: 'detail',
      extension: [
        ...(d.category ? [{ url: 'category', valueCode: d.category }] : []),
        { url: 'code', valueCodeableConcept: { coding: [{ system: CRD_TEMP, code: d.code }] } },
        value,
        ...(d.qualification ? [{ url: 'qualification', valueString: d.qualification }] : []),
      ],
    });
  }
  for (const q of o.questionnaire ?? []) ext.push({ url: 'questionnaire', valueCanonical: q });
  ext.push({ url: 'date', valueDate: a.date });
  ext.push({ url: 'coverage-assertion-id', valueString: a.assertionId });
  if (o.expiryDate) ext.push({ url: 'expiry-date', valueDate: o.expiryDate });
  return { url: COVERAGE_INFORMATION_URL, extension: ext };
}

export function coverageSystemAction(order: Resource, extensions: Extension[]): CdsAction {
  const existing = ((order as { extension?: Extension[] }).extension ?? []).filter(
    (e) => e.url !== COVERAGE_INFORMATION_URL,
  );
  return {
    type: 'update',
    description: `Coverage information for ${order.resourceType}/${order.id ?? ''}`,
    resource: { ...order, extension: [...existing, ...extensions] } as Resource,
  };
}

/** Reads the assertion back out of an action (for test expectations). */
export function readCoverageInformation(action: CdsAction): Record<string, string[]> | undefined {
  const ext = (action.resource as { extension?: Extension[] } | undefined)?.extension?.find(
    (e) => e.url === COVERAGE_INFORMATION_URL,
  );
  if (!ext) return undefined;
  const out: Record<string, string[]> = {};
  for (const sub of ext.extension ?? []) {
    const value =
      sub.valueCode ?? sub.valueString ?? sub.valueDate ?? sub.valueCoding?.code ?? sub.valueReference?.reference;
    if (value !== undefined) (out[sub.url] ??= []).push(value);
  }
  return out;
}
