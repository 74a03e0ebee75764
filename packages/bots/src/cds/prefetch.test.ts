import { describe, expect, it } from 'vitest';
import { missingPrefetchKeys, parsePrefetchQuery, renderPrefetchTemplate } from './prefetch.js';

describe('parsePrefetchQuery', () => {
  it.each([
    ['Patient/{{context.patientId}}', 'read', 'Patient'],
    ['Coverage?patient={{context.patientId}}&status=active', 'search', 'Coverage'],
    ['Observation?patient={{context.patientId}}&code=4548-4&_count=1&sort:desc=date', 'search', 'Observation'],
    ['PractitionerRole/{{userPractitionerRoleId}}', 'read', 'PractitionerRole'],
    ['Patient/example', 'read', 'Patient'],
    ['{{context.userId}}', 'read', undefined],
  ])('accepts %s', (query, interaction, resourceType) => {
    const result = parsePrefetchQuery(query);
    expect(result).toMatchObject({ ok: true, interaction });
    expect(result.ok && result.resourceType).toBe(resourceType);
  });

  it.each([
    ['', 'empty'],
    ['https://evil.example/Patient/1', 'relative'],
    ['//evil.example/Patient/1', 'relative'],
    ['/Patient/1', 'relative'],
    ['Patient/../admin', '..'],
    ['Patient/%2e%2e', '..'],
    ['../Patient?x=1', '..'],
    ['Patient', 'read'],
    ['Patient/1/_history', 'read'],
    ['Coverage?patient={{context.patientId}', 'Unbalanced'],
    ['Observation?date=gt{{today() - 90 days}}', 'Unsupported'],
    ['Medication?_id={{context.draftOrders.entry.resource.ofType(MedicationRequest).id}}', 'Unsupported'],
    ['Patient?_id={{%patient.id}}', 'Unsupported'],
  ])('refuses %s', (query, why) => {
    const result = parsePrefetchQuery(query);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issue).toContain(why);
  });
});

describe('renderPrefetchTemplate', () => {
  const request = {
    context: {
      userId: 'PractitionerRole/r1',
      patientId: 'p&1',
      encounterId: 'e1',
      dispatchedOrders: ['ServiceRequest/1', 'ServiceRequest/2'],
      medication: { id: 'med-1' },
    },
  };

  it('renders context tokens URL-encoded', () => {
    expect(renderPrefetchTemplate('Coverage?patient={{context.patientId}}&status=active', request)).toEqual({
      ok: true,
      url: 'Coverage?patient=p%261&status=active',
    });
  });

  it('renders nested context tokens', () => {
    expect(renderPrefetchTemplate('Medication/{{context.medication.id}}', request)).toEqual({
      ok: true,
      url: 'Medication/med-1',
    });
  });

  it('renders an array of references comma-separated', () => {
    expect(renderPrefetchTemplate('ServiceRequest?_id={{context.dispatchedOrders}}', request)).toEqual({
      ok: true,
      url: 'ServiceRequest?_id=ServiceRequest%2F1,ServiceRequest%2F2',
    });
  });

  it('renders a template that is only {{context.userId}} as a reference', () => {
    expect(renderPrefetchTemplate('{{context.userId}}', request)).toEqual({ ok: true, url: 'PractitionerRole/r1' });
  });

  it('derives user tokens from context.userId', () => {
    expect(renderPrefetchTemplate('PractitionerRole/{{userPractitionerRoleId}}', request)).toEqual({
      ok: true,
      url: 'PractitionerRole/r1',
    });
    const patientUser = { context: { userId: 'Patient/9' } };
    expect(renderPrefetchTemplate('Patient/{{userPatientId}}', patientUser)).toEqual({ ok: true, url: 'Patient/9' });
    expect(
      renderPrefetchTemplate('RelatedPerson/{{userRelatedPersonId}}', { context: { userId: 'RelatedPerson/r' } }),
    ).toEqual({ ok: true, url: 'RelatedPerson/r' });
    expect(
      renderPrefetchTemplate('Practitioner/{{userPractitionerId}}', { context: { userId: 'Practitioner/x' } }),
    ).toEqual({ ok: true, url: 'Practitioner/x' });
  });

  it('is not renderable when a token has no value', () => {
    const result = renderPrefetchTemplate('Practitioner/{{userPractitionerId}}', request);
    expect(result).toEqual({ ok: false, reason: '{{userPractitionerId}} has no value in this request' });
    expect(renderPrefetchTemplate('Encounter/{{context.missing}}', request).ok).toBe(false);
    expect(renderPrefetchTemplate('Encounter/{{context.medication}}', request).ok).toBe(false);
  });

  it('refuses a value that would climb out of the FHIR base', () => {
    const result = renderPrefetchTemplate('Patient/{{context.patientId}}', { context: { patientId: '..' } });
    expect(result.ok).toBe(false);
  });
});

describe('missingPrefetchKeys', () => {
  const templates = [
    { key: 'patient', query: 'Patient/{{context.patientId}}' },
    { key: 'coverage', query: 'Coverage?patient={{context.patientId}}' },
    { key: 'encounter', query: 'Encounter/{{context.encounterId}}' },
    { key: 'user', query: '{{context.userId}}' },
  ];

  it('lists keys absent, null or an OperationOutcome', () => {
    const prefetch = {
      patient: { resourceType: 'Patient', id: '1' },
      coverage: null,
      encounter: { resourceType: 'OperationOutcome', issue: [] },
    };
    expect(missingPrefetchKeys(templates, prefetch)).toEqual(['coverage', 'encounter', 'user']);
  });

  it('lists every key when nothing was prefetched, and accepts the discovery object form', () => {
    expect(missingPrefetchKeys(templates, undefined)).toEqual(['patient', 'coverage', 'encounter', 'user']);
    expect(missingPrefetchKeys({ a: 'Patient/1' }, { a: { resourceType: 'Patient' } })).toEqual([]);
  });
});
