import { describe, expect, it } from 'vitest';
import { compartmentSql, inPatientCompartment, isMemberType } from './compartment.js';

describe('the patient compartment', () => {
  it('names the types a member may read: their compartment and the providers and payers it references', () => {
    for (const type of ['Patient', 'Coverage', 'ExplanationOfBenefit', 'Claim', 'Organization', 'Practitioner']) {
      expect(isMemberType(type)).toBe(true);
    }
    for (const type of ['Bot', 'Binary', 'Subscription', 'AuditEvent', 'Questionnaire']) {
      expect(isMemberType(type)).toBe(false);
    }
  });

  it('builds no predicate (and binds no parameter) for types a member never sees', () => {
    const params: unknown[] = [];
    expect(compartmentSql('p1', ['Bot', 'AuditEvent'], (v) => `$${params.push(v)}`, '$1')).toBe('false');
    expect(params).toEqual([]);
  });

  it('puts a Coverage in the compartment of its subscriber and beneficiary, and a Patient in its own only', () => {
    const coverage = {
      resourceType: 'Coverage' as const,
      status: 'active' as const,
      subscriber: { reference: 'Patient/sub' },
      beneficiary: { reference: 'Patient/dep' },
      payor: [{ reference: 'Organization/o' }],
    };
    expect([inPatientCompartment(coverage, 'sub'), inPatientCompartment(coverage, 'dep')]).toEqual([true, true]);
    expect(inPatientCompartment(coverage, 'other')).toBe(false);
    const linked = {
      resourceType: 'Patient' as const,
      id: 'a',
      link: [{ other: { reference: 'Patient/b' }, type: 'seealso' as const }],
    };
    expect(inPatientCompartment(linked, 'b')).toBe(false);
  });
});
