import { describe, expect, it } from 'vitest';
import { validateForWrite } from '../fhir/validation.js';
import { HookbotError } from '../infra/errors.js';
import { memberAccessEvent, patientAccess } from './patient-access.js';
import { parseScopes } from './scopes.js';

const member = (scope: string, patient: string | null = 'p1') =>
  patientAccess({ projectId: 'project-1', ...(patient ? { patient } : {}), scopes: parseScopes(scope) });

describe('patientAccess', () => {
  it('reads and searches the Patient Access API types, confined to the patient', () => {
    const access = member('patient/*.rs');
    expect(access.patient).toBe('p1');
    for (const type of ['Patient', 'Coverage', 'ExplanationOfBenefit', 'Claim', 'Organization', 'Practitioner']) {
      expect(access.allows(type, 'r')).toBe(true);
      expect(access.allows(type, 's')).toBe(true);
    }
    for (const type of ['Bot', 'Binary', 'Subscription', 'AuditEvent', 'Questionnaire']) {
      expect(access.allows(type, 'r')).toBe(false);
    }
  });

  it('never writes, whatever the token says', () => {
    const access = member('patient/*.cruds user/*.cruds system/*.cruds');
    for (const interaction of ['c', 'u', 'd'] as const) expect(access.allows('Patient', interaction)).toBe(false);
    expect(access.allows('Bot', 'r')).toBe(false);
  });

  it('grants what the scopes name: patient/ExplanationOfBenefit.rs is EOBs alone; query scopes grant nothing', () => {
    const access = member('patient/ExplanationOfBenefit.rs patient/Coverage.rs?status=active');
    expect(access.allows('ExplanationOfBenefit', 's')).toBe(true);
    expect(access.allows('Coverage', 'r')).toBe(false);
    expect(access.allows('Patient', 'r')).toBe(false);
    expect(member('patient/*.read').allows('Coverage', 's')).toBe(true);
  });

  it('refuses a member token that names no patient', () => {
    expect(() => member('patient/*.rs', null)).toThrow(HookbotError);
  });
});

describe('memberAccessEvent', () => {
  const base = { patient: 'p1', clientId: 'app-1', status: 200 };

  it('says who, through which app, what and how it went, as a valid AuditEvent', () => {
    const search = memberAccessEvent({
      ...base,
      method: 'GET',
      path: '/ExplanationOfBenefit',
      query: '_include=ExplanationOfBenefit:coverage',
    });
    expect(() => validateForWrite(search)).not.toThrow();
    expect(search.subtype?.[0]?.code).toBe('search-type');
    expect(search.action).toBe('E');
    expect(search.agent?.[0]?.who?.reference).toBe('Patient/p1');
    expect(search.agent?.[1]).toMatchObject({ who: { display: 'app-1' }, altId: 'app-1' });
    expect(Buffer.from(search.entity?.[1]?.query ?? '', 'base64').toString()).toBe(
      '_include=ExplanationOfBenefit:coverage',
    );
    const read = memberAccessEvent({ ...base, method: 'GET', path: '/Coverage/c1/_history/2', query: '', status: 404 });
    expect(() => validateForWrite(read)).not.toThrow();
    expect([read.subtype?.[0]?.code, read.outcome, read.entity?.[1]?.what?.reference]).toEqual([
      'vread',
      '4',
      'Coverage/c1',
    ]);
    const history = memberAccessEvent({ ...base, method: 'GET', path: '/Coverage/c1/_history', query: '' });
    expect(history.subtype?.[0]?.code).toBe('history-instance');
    const posted = memberAccessEvent({ ...base, method: 'POST', path: '/Coverage/_search', query: 'status=active' });
    expect(posted.subtype?.[0]?.code).toBe('search-type');
  });

  it('stores what it cannot keep as is (a NUL in a query) without failing the batch', () => {
    const event = memberAccessEvent({ ...base, method: 'GET', path: '/Patient', query: 'name=a\u0000b' });
    expect(event.entity?.[1]?.detail?.[0]?.valueString).not.toContain('\u0000');
  });
});
