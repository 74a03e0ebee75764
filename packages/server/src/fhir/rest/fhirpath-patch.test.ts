import type { Parameters, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { HookbotError } from '../../infra/errors.js';
import { applyFhirPathPatch } from './fhirpath-patch.js';

const patch = (...operations: Record<string, unknown>[]): Parameters => ({
  resourceType: 'Parameters',
  parameter: operations.map((o) => ({
    name: 'operation',
    part: Object.entries(o).map(([name, value]) =>
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? { name, ...value }
        : { name, [typeof value === 'number' ? 'valueInteger' : 'valueString']: value },
    ),
  })),
});

const base = (): Patient => ({
  resourceType: 'Patient',
  id: 'p',
  name: [{ family: 'A', given: ['x', 'y'] }, { family: 'B' }],
  identifier: [
    { system: 's1', value: '1' },
    { system: 's2', value: '2' },
  ],
  birthDate: '2000-01-01',
});

describe('FHIRPath Patch', () => {
  it('replaces and deletes primitives by path, list items by index', () => {
    const out = applyFhirPathPatch(
      base(),
      patch(
        { type: 'replace', path: 'Patient.name[0].given[1]', value: { valueString: 'z' } },
        { type: 'delete', path: 'Patient.birthDate' },
      ),
    ) as Patient;
    expect(out.name?.[0]?.given).toEqual(['x', 'z']);
    expect(out.birthDate).toBeUndefined();
  });

  it('deletes an element found by a filter, and leaves no empty list', () => {
    const one = applyFhirPathPatch(base(), patch({ type: 'delete', path: "Patient.identifier.where(system='s1')" }));
    expect((one as Patient).identifier).toEqual([{ system: 's2', value: '2' }]);
    const none = applyFhirPathPatch(
      one,
      patch({ type: 'delete', path: "Patient.identifier.where(system='s2')" }),
    ) as Patient;
    expect(none.identifier).toBeUndefined();
  });

  it('adds to a list, starts a list, sets a choice element, inserts and moves', () => {
    const out = applyFhirPathPatch(
      base(),
      patch(
        { type: 'add', path: 'Patient', name: 'telecom', value: { valueContactPoint: { value: '1' } } },
        { type: 'add', path: 'Patient', name: 'multipleBirth', value: { valueInteger: 2 } },
        { type: 'insert', path: 'Patient.identifier', index: 1, value: { valueIdentifier: { value: 'mid' } } },
        { type: 'move', path: 'Patient.name', source: 1, destination: 0 },
      ),
    ) as Patient;
    expect(out.telecom).toEqual([{ value: '1' }]);
    expect(out.multipleBirthInteger).toBe(2);
    expect(out.identifier?.map((i) => i.value)).toEqual(['1', 'mid', '2']);
    expect(out.name?.map((n) => n.family)).toEqual(['B', 'A']);
  });

  it('builds a value from parts', () => {
    const out = applyFhirPathPatch(
      base(),
      patch({
        type: 'add',
        path: 'Patient',
        name: 'contact',
        value: { part: [{ name: 'gender', valueCode: 'male' }] },
      }),
    ) as Patient;
    expect(out.contact).toEqual([{ gender: 'male' }]);
  });

  it('leaves the input unchanged and refuses what cannot apply', () => {
    const input = base();
    applyFhirPathPatch(input, patch({ type: 'delete', path: 'Patient.birthDate' }));
    expect(input.birthDate).toBe('2000-01-01');
    const bad = [
      patch({ type: 'replace', path: 'Patient.name', value: { valueString: 'x' } }),
      patch({ type: 'delete', path: 'Patient.name' }),
      patch({ type: 'insert', path: 'Patient.name', index: 9, value: { valueHumanName: {} } }),
      patch({ type: 'add', path: 'Patient', name: 'birthDate', value: { valueDate: '2001-01-01' } }),
      patch({ type: 'frobnicate', path: 'Patient' }),
      patch({ type: 'replace', path: 'Patient.(', value: { valueString: 'x' } }),
      { resourceType: 'Parameters' } as Parameters,
    ];
    for (const p of bad) {
      expect(() => applyFhirPathPatch(base(), p)).toThrow(HookbotError);
    }
  });
});
