import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { HookbotError } from '../infra/errors.js';
import { checkElements, parseSubset, subsetResource, SUBSETTED } from './subset.js';

const patient: Patient = {
  resourceType: 'Patient',
  id: 'p',
  meta: { versionId: '1', tag: [{ system: 'urn:t', code: 'kept' }] },
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' },
  name: [{ family: 'A' }],
  deceasedBoolean: false,
  maritalStatus: { text: 'single' },
  photo: [{ url: 'https://example.org/a.png' }],
};

const q = (s: string) => new URLSearchParams(s);

describe('_summary and _elements', () => {
  it('keeps summary elements (choice elements by their base name), tagged SUBSETTED', () => {
    const out = subsetResource(patient, parseSubset(q('_summary=true')));
    expect(Object.keys(out).sort()).toEqual(['deceasedBoolean', 'id', 'meta', 'name', 'resourceType']);
    expect(out.meta?.tag).toEqual([{ system: 'urn:t', code: 'kept' }, SUBSETTED]);
    expect(patient.meta?.tag).toHaveLength(1);
  });

  it('keeps text only, or everything but text', () => {
    expect(Object.keys(subsetResource(patient, parseSubset(q('_summary=text')))).sort()).toEqual([
      'id',
      'meta',
      'resourceType',
      'text',
    ]);
    expect(subsetResource(patient, parseSubset(q('_summary=data'))).text).toBeUndefined();
  });

  it('keeps the elements named, for this type only', () => {
    const subset = parseSubset(q('_elements=photo,Patient.deceased,Organization.name'));
    checkElements('Patient', subset);
    expect(Object.keys(subsetResource(patient, subset)).sort()).toEqual([
      'deceasedBoolean',
      'id',
      'meta',
      'photo',
      'resourceType',
    ]);
  });

  it('answers the whole resource without a subset', () => {
    expect(parseSubset(q('_summary=false'))).toBeUndefined();
    expect(parseSubset(q('_summary=count'), true)).toBeUndefined();
    expect(subsetResource(patient, undefined)).toBe(patient);
  });

  it('refuses unknown values, unknown elements and both together', () => {
    for (const query of [
      '_summary=count',
      '_summary=maybe',
      '_elements=',
      '_elements=a b',
      '_summary=true&_elements=name',
    ]) {
      expect(() => parseSubset(q(query)), query).toThrow(HookbotError);
    }
    expect(() => checkElements('Patient', parseSubset(q('_elements=nope')))).toThrow(HookbotError);
  });
});
