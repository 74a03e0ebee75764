import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { evalFhirPath, getExpressionForResourceType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { indexedSearchParameters } from '../definitions.js';
import { extractIndexRows, fastPath, fastValues } from './extract.js';

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

  it('keeps apart values that differ only in where a separator falls', () => {
    const patient = {
      resourceType: 'Patient',
      identifier: [
        { system: 'a|b', value: 'c' },
        { system: 'a', value: 'b|c' },
      ],
    } as Resource;
    expect(rowsOf(patient, 'identifier').map((r) => [r.system, r.value])).toEqual([
      ['a|b', 'c'],
      ['a', 'b|c'],
    ]);
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

describe('fastValues (member paths, reference types and unions walked without FHIRPath)', () => {
  const root = path.resolve(import.meta.dirname, '../../../../..');
  const resources: Resource[] = [];
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(collect);
    else if (node && typeof node === 'object') {
      if (typeof (node as { resourceType?: unknown }).resourceType === 'string') resources.push(node as Resource);
      Object.values(node).forEach(collect);
    }
  };
  for (const dir of ['examples/members', 'examples/requests', 'packages/bots/src/cds/__fixtures__/requests']) {
    for (const file of readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.json'))) {
      collect(JSON.parse(readFileSync(path.join(root, dir, file), 'utf8')));
    }
  }
  resources.push(
    { resourceType: 'Patient', _birthDate: { extension: [{ url: 'x', valueString: 'y' }] } } as Resource,
    { resourceType: 'Observation', valueQuantity: { value: 1 }, effectivePeriod: { start: '2026-01-01' } } as Resource,
    // Every shape of reference that `where(resolve() is Patient)` must sort: relative, absolute, search, contained,
    // logical, urn, empty, inline and malformed.
    {
      resourceType: 'AuditEvent',
      agent: [
        { who: { reference: 'Patient/p1' } },
        { who: { reference: 'Practitioner/d1' } },
        { who: { reference: 'https://ehr.example.org/fhir/Patient/p2' } },
        { who: { reference: 'Patient?identifier=http://mrn|7' } },
        { who: { type: 'Patient', identifier: { system: 'http://mrn', value: '8' } } },
        { who: { reference: '#contained' } },
        { who: { reference: 'urn:uuid:0b9f1f2e-0c4b-4d43-9a48-2a7e1f0c9d11' } },
        { who: { reference: '' } },
        { who: { display: 'nobody' } },
      ],
      entity: [{ what: { reference: 'Patient/p1' } }, { what: { reference: 'Patient/p3' } }],
    } as Resource,
    { resourceType: 'AuditEvent', agent: [{ who: { resource: { resourceType: 'Patient' } } }] } as unknown as Resource,
    { resourceType: 'AuditEvent', agent: [{ who: { reference: 7 } }] } as unknown as Resource,
  );

  it('finds what FHIRPath finds, or defers to it, for every parameter of every test resource', () => {
    let compared = 0;
    let deferred = 0;
    let narrowed = 0;
    for (const resource of resources) {
      for (const param of indexedSearchParameters(resource.resourceType)) {
        const own = getExpressionForResourceType(resource.resourceType, param.expression ?? '') ?? '';
        const plan = fastPath(own);
        if (!plan) continue;
        const fast = fastValues(resource, plan);
        if (fast === undefined) {
          deferred++;
          continue;
        }
        const slow = evalFhirPath(own, resource);
        const label = `${resource.resourceType} ${param.code}`;
        // A union lists a value FHIRPath lists once as often as its branches find it; rows are deduplicated.
        if (plan.length > 1)
          expect(new Set(fast.map((v) => JSON.stringify(v))), label).toEqual(
            new Set(slow.map((v) => JSON.stringify(v))),
          );
        else expect(fast, label).toEqual(slow);
        compared++;
        if (plan.some((b) => b.resolvesTo) && slow.length > 0) narrowed++;
      }
    }
    expect(resources.length).toBeGreaterThan(20);
    expect(compared).toBeGreaterThan(500);
    expect(deferred).toBeGreaterThan(0);
    expect(narrowed).toBeGreaterThan(10);
  });
});
