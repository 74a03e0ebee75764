import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, Claim } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { validateRequestBundle } from './validate-request.js';

const seed = (): Bundle =>
  JSON.parse(
    readFileSync(path.join(import.meta.dirname, '../../../../examples/pas/seed-request.json'), 'utf8'),
  ) as Bundle;
const claimOf = (b: Bundle) => b.entry?.[0]?.resource as Claim;
const problemsOf = (body: unknown) => {
  const result = validateRequestBundle(body);
  return result.ok ? [] : result.problems;
};

describe('validateRequestBundle', () => {
  it("accepts the seed's request and finds its member id", () => {
    const result = validateRequestBundle(seed());
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.request.memberId).toBe('M2346623');
  });

  it('accepts the Bundle inside a Parameters', () => {
    expect(
      validateRequestBundle({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource: seed() }] }).ok,
    ).toBe(true);
  });

  it('reports an empty Bundle', () => {
    expect(problemsOf({ resourceType: 'Bundle', type: 'collection', entry: [] }).map((p) => p.path)).toContain(
      'Bundle.entry',
    );
  });

  it('reports every problem at once, each with its FHIRPath', () => {
    const bundle = seed();
    bundle.type = 'transaction';
    const claim = claimOf(bundle);
    claim.use = 'claim';
    claim.status = 'draft';
    claim.item = [
      { sequence: 1, productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '9345' }] } },
      { sequence: 1, productOrService: { coding: [{ system: 'http://snomed.info/sct', code: '1234' }] } },
    ];
    const paths = problemsOf(bundle).map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'Bundle.type',
        'Bundle.entry[0].resource.use',
        'Bundle.entry[0].resource.status',
        'Bundle.entry[0].resource.item[0].productOrService.coding[0].code',
        'Bundle.entry[0].resource.item[1].sequence',
        'Bundle.entry[0].resource.item[1].productOrService.coding[0].system',
      ]),
    );
  });

  it('reports dangling references, found transitively from the Claim', () => {
    const bundle = seed();
    bundle.entry = bundle.entry?.filter((e) => e.resource?.resourceType !== 'Practitioner');
    const problems = problemsOf(bundle);
    expect(problems.some((p) => /PractitionerRole/.test(p.path) === false && /Practitioner\//.test(p.message))).toBe(
      true,
    );
  });

  it('reports a resource included twice and a Claim that is not first', () => {
    const bundle = seed();
    bundle.entry?.push(bundle.entry[1] as NonNullable<Bundle['entry']>[number]);
    expect(problemsOf(bundle).some((p) => /more than once/.test(p.message))).toBe(true);
    const reversed = seed();
    reversed.entry?.reverse();
    expect(problemsOf(reversed).map((p) => p.path)).toContain('Bundle.entry[0].resource');
  });

  it('requires a focal Coverage that names its member', () => {
    const bundle = seed();
    const coverage = bundle.entry?.find((e) => e.resource?.resourceType === 'Coverage')?.resource as {
      subscriberId?: string;
    };
    delete coverage.subscriberId;
    expect(problemsOf(bundle).some((p) => p.path.endsWith('.subscriberId'))).toBe(true);
    const noFocal = seed();
    claimOf(noFocal).insurance = [
      { sequence: 1, focal: false, coverage: { reference: 'Coverage/RedoxPACoverageExample' } },
    ];
    expect(problemsOf(noFocal).map((p) => p.path)).toContain('Bundle.entry[0].resource.insurance');
  });

  it('accepts HCPCS Level II and NDC items with their systems', () => {
    const bundle = seed();
    claimOf(bundle).item = [
      {
        sequence: 1,
        productOrService: {
          coding: [{ system: 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code: 'E0601' }],
        },
      },
      { sequence: 2, productOrService: { coding: [{ system: 'http://hl7.org/fhir/sid/ndc', code: '0002-8215-01' }] } },
    ];
    expect(problemsOf(bundle)).toEqual([]);
  });
});
