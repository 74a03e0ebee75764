/**
 * Maps a rule set's coverage outcome onto the cds CRD builder (`cds/crd.ts`: the ext-coverage-information
 * extension and its `update` systemAction), and reads assertions back for test expectations.
 */
import type { CodeableConcept, Extension } from '@medplum/fhirtypes';
import { CRD_TEMP_SYSTEM, type CoverageInformationInput } from '../cds/crd.js';
import type { CdsAction } from '../cds/types.js';
import type { CoverageEvent } from './types.js';
import { COVERAGE_INFORMATION_URL } from '../cds/response-rules.js';

export type CoverageOutcome = Omit<CoverageEvent, 'type' | 'billingCode'>;

export function toCoverageInput(
  o: CoverageOutcome,
  extra: Pick<CoverageInformationInput, 'coverage' | 'billingCode' | 'date' | 'coverageAssertionId'>,
): CoverageInformationInput {
  const input: CoverageInformationInput = { ...extra, covered: o.covered };
  // crd-ci-q2: a not-covered assertion carries no pa-needed.
  if (o.paNeeded && o.covered !== 'not-covered') input.paNeeded = o.paNeeded;
  if (o.docNeeded) input.docNeeded = o.docNeeded;
  if (o.docPurpose) input.docPurpose = o.docPurpose;
  if (o.infoNeeded) input.infoNeeded = o.infoNeeded;
  if (o.questionnaire) input.questionnaire = o.questionnaire;
  if (o.expiryDate) input.expiryDate = o.expiryDate;
  if (o.reason) {
    input.reason = o.reason.map((r): string | CodeableConcept =>
      r.code && !r.text
        ? r.code
        : { ...(r.code ? { coding: [{ system: CRD_TEMP_SYSTEM, code: r.code }] } : {}), text: r.text ?? '' },
    );
  }
  if (o.detail) {
    input.detail = o.detail.map((d) => ({
      category: d.category ?? 'cat-other',
      code: { coding: [{ system: CRD_TEMP_SYSTEM, code: d.code }] },
      value: typeof d.value === 'number' ? { value: d.value } : d.value,
      ...(d.qualification ? { qualification: d.qualification } : {}),
    }));
  }
  return input;
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
