import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { extractIndexRows } from './extract.js';

const codes = (resource: Resource) => [...new Set(extractIndexRows(resource).map((r) => r.code))].sort();
const rowsOf = (resource: Resource, code: string) => extractIndexRows(resource).filter((r) => r.code === code);

describe('extractIndexRows', () => {
  it('indexes what a sparse resource has and nothing it lacks', () => {
    const event = {
      resourceType: 'AuditEvent',
      type: { system: 'https://hookbot.dev/t', code: 'cds-hooks' },
      subtype: [{ system: 'https://hookbot.dev/t', code: 'cds-hooks' }],
      action: 'E',
      recorded: '2026-11-22T10:00:00.000Z',
      outcome: '0',
      agent: [{ requestor: true, who: { display: 'client-1' } }],
      source: { observer: { display: 'hookbot' } },
      entity: [{ what: { reference: 'Bot/b1' } }],
    } as Resource;
    expect(codes(event)).toEqual(['action', 'date', 'entity', 'outcome', 'subtype', 'type']);
    expect(rowsOf(event, 'entity')).toEqual([{ code: 'entity', value: 'Bot/b1', ref_type: 'Bot', ref_id: 'b1' }]);
  });

  it('follows choice types that a plain member path names (Observation.effective → effectiveDateTime)', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      effectiveDateTime: '2026-01-02',
      valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    } as Resource;
    expect(rowsOf(observation, 'date')).toEqual([
      { code: 'date', low: '2026-01-02T00:00:00.000Z', high: '2026-01-03T00:00:00.000Z' },
    ]);
    expect(rowsOf(observation, 'value-quantity')[0]).toMatchObject({ num: '72', value: '/min' });
  });

  it('indexes values inside arrays at any depth of the path', () => {
    const patient = {
      resourceType: 'Patient',
      name: [{ family: 'Able' }, { given: ['Ada', 'Bea'] }],
      address: [{ city: 'Springfield' }],
    } as Resource;
    expect(rowsOf(patient, 'given').map((r) => r.value)).toEqual(['Ada', 'Bea']);
    expect(rowsOf(patient, 'address-city').map((r) => r.value)).toEqual(['Springfield']);
    expect(rowsOf(patient, 'address-state')).toEqual([]);
  });
});

it('indexes a resource with a very long array', () => {
  const given = Array.from({ length: 200_000 }, (_, i) => `g${i}`);
  const rows = extractIndexRows({ resourceType: 'Patient', name: [{ given }] } as Resource);
  expect(rows.filter((r) => r.code === 'given')).toHaveLength(200_000);
});
