import type { Extension, ServiceRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  checkCoverageInformation,
  coverageInformation,
  coverageInformationAction,
  type CoverageInformationInput,
} from './crd.js';
import { COVERAGE_INFORMATION_URL } from './response-rules.js';
import { validateCdsResponse } from './validate-response.js';

const base: CoverageInformationInput = {
  coverage: 'Coverage/cov1',
  covered: 'covered',
  paNeeded: 'auth-needed',
  date: '2026-01-12',
};
const part = (ext: Extension, url: string): Extension[] => (ext.extension ?? []).filter((e) => e.url === url);
const paths = (input: Partial<CoverageInformationInput>): string[] =>
  checkCoverageInformation({ ...base, ...input }).map((i) => i.path);

describe('coverageInformation', () => {
  it('builds the extension with its required parts and a generated coverage-assertion-id', () => {
    const ext = coverageInformation(base);
    expect(ext.url).toBe(COVERAGE_INFORMATION_URL);
    expect(part(ext, 'coverage')[0]?.valueReference).toEqual({ reference: 'Coverage/cov1' });
    expect(part(ext, 'covered')[0]?.valueCode).toBe('covered');
    expect(part(ext, 'pa-needed')[0]?.valueCode).toBe('auth-needed');
    expect(part(ext, 'date')[0]?.valueDate).toBe('2026-01-12');
    expect(part(ext, 'coverage-assertion-id')[0]?.valueString).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('generates a distinct coverage-assertion-id per call and keeps a given one', () => {
    const a = part(coverageInformation(base), 'coverage-assertion-id')[0]?.valueString;
    const b = part(coverageInformation(base), 'coverage-assertion-id')[0]?.valueString;
    expect(a).not.toBe(b);
    const given = coverageInformation({ ...base, coverageAssertionId: 'A1' });
    expect(part(given, 'coverage-assertion-id')[0]?.valueString).toBe('A1');
  });

  it('defaults date to today', () => {
    const ext = coverageInformation({ ...base, date: undefined });
    expect(part(ext, 'date')[0]?.valueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('carries doc-needed, info-needed, billingCode, reason and detail', () => {
    const ext = coverageInformation({
      ...base,
      paNeeded: 'conditional',
      docNeeded: ['clinical'],
      docPurpose: ['withpa'],
      infoNeeded: ['performer'],
      billingCode: [{ system: 'http://www.ama-assn.org/go/cpt', code: '93456' }],
      reason: ['auth-out-network'],
      detail: [{ category: 'cat-limitation', code: { text: 'allowed-quantity' }, value: { value: 1, unit: 'visit' } }],
      questionnaire: ['http://payer.example/Questionnaire/cath'],
    });
    expect(part(ext, 'doc-needed').map((e) => e.valueCode)).toEqual(['clinical']);
    expect(part(ext, 'info-needed').map((e) => e.valueCode)).toEqual(['performer']);
    expect(part(ext, 'billingCode')[0]?.valueCoding?.code).toBe('93456');
    expect(part(ext, 'reason')[0]?.valueCodeableConcept?.coding?.[0]?.code).toBe('auth-out-network');
    expect(part(part(ext, 'detail')[0]!, 'value')[0]?.valueQuantity).toEqual({ value: 1, unit: 'visit' });
    expect(part(ext, 'questionnaire')[0]?.valueCanonical).toBe('http://payer.example/Questionnaire/cath');
  });

  it('throws listing every broken invariant', () => {
    expect(() => coverageInformation({ ...base, covered: 'not-covered', satisfiedPaId: 'X' })).toThrow(
      /paNeeded: .*crd-ci-q2.*satisfiedPaId: .*crd-ci-q5/,
    );
  });
});

describe('checkCoverageInformation invariants', () => {
  it('q1: questionnaire needs doc-needed', () => expect(paths({ questionnaire: ['q'] })).toEqual(['questionnaire']));
  it('q2: not-covered has no pa-needed', () => expect(paths({ covered: 'not-covered' })).toEqual(['paNeeded']));
  it('q3: conditional needs info-needed', () => {
    expect(paths({ covered: 'conditional' })).toEqual(['infoNeeded']);
    expect(paths({ docNeeded: ['conditional'] })).toEqual(['infoNeeded']);
  });
  it('q4: satisfied or no-auth with doc-purpose withpa', () =>
    expect(paths({ paNeeded: 'no-auth', docNeeded: ['admin'], docPurpose: ['withpa'] })).toEqual(['docPurpose']));
  it('q5: satisfied-pa-id iff satisfied', () => {
    expect(paths({ paNeeded: 'satisfied' })).toEqual(['satisfiedPaId']);
    expect(paths({ satisfiedPaId: 'Q8U119' })).toEqual(['satisfiedPaId']);
    expect(paths({ paNeeded: 'satisfied', satisfiedPaId: 'Q8U119' })).toEqual([]);
  });
  it('q6: info-needed OTH needs a reason', () =>
    expect(paths({ covered: 'conditional', infoNeeded: ['OTH'] })).toEqual(['reason']));
  it('q7: a reason outside the value set needs text', () => {
    expect(paths({ reason: [{ coding: [{ system: 'http://other', code: 'x' }] }] })).toEqual(['reason[0]']);
    expect(paths({ reason: [{ coding: [{ system: 'http://other', code: 'x' }], text: 'Why' }] })).toEqual([]);
  });
  it('q9: indeterminate needs a reason', () => {
    expect(paths({ covered: 'indeterminate', paNeeded: undefined })).toEqual(['reason']);
    expect(paths({ covered: 'indeterminate', paNeeded: undefined, reason: ['technical'] })).toEqual([]);
  });
  it('checks dates and the coverage reference', () =>
    expect(paths({ date: '12/01/2026', coverage: '' })).toEqual(['date', 'coverage']));
});

describe('coverageInformationAction', () => {
  const order: ServiceRequest = {
    resourceType: 'ServiceRequest',
    id: 'sr1',
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/p' },
    extension: [{ url: 'http://example.org/other', valueString: 'kept' }],
  };

  it('returns an update of a copy of the order carrying the extension', () => {
    const ext = coverageInformation(base);
    const action = coverageInformationAction(order, ext);
    expect(action).toEqual({
      type: 'update',
      description: 'Coverage information for ServiceRequest/sr1',
      resource: { ...order, extension: [order.extension?.[0], ext] },
    });
    expect(order.extension).toHaveLength(1);
  });

  it('replaces an earlier repetition for the same coverage and keeps others', () => {
    const old = coverageInformation({ ...base, coverage: 'Coverage/cov1', coverageAssertionId: 'old' });
    const other = coverageInformation({ ...base, coverage: 'Coverage/cov2' });
    const next = coverageInformation(base);
    const action = coverageInformationAction({ ...order, extension: [old, other] }, next);
    expect((action.resource as ServiceRequest).extension).toEqual([other, next]);
  });

  it('passes the CRD response validator for order-sign', () => {
    const action = coverageInformationAction(order, coverageInformation(base));
    const result = validateCdsResponse({ cards: [], systemActions: [action] }, { hook: 'order-sign', crd: true });
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
