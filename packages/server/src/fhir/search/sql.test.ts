import { describe, expect, it } from 'vitest';
import { parseSearchRequest } from './parse.js';
import { buildWhere, type Confine } from './sql.js';

/** Records which rows the caller's confinement was asked for, as a marker in the SQL. */
const confined: Confine = (types, params, alias) => {
  params.push(types.join(','));
  return ` AND confined(${alias}, $${params.length})`;
};

describe('buildWhere with chains', () => {
  it('joins a chain through the reference rows to a search of the target type in the same project', () => {
    const request = parseSearchRequest('ExplanationOfBenefit', { 'patient.identifier': 'urn:member|M-1' });
    const { sql, params } = buildWhere('project-a', request, confined);
    expect(sql).toContain(
      'r.id IN (SELECT i.resource_id FROM fhir_index i WHERE i.project_id = $1 AND i.resource_type = $2',
    );
    expect(sql).toMatch(
      /i\.ref_type = \$3 AND i\.ref_id IN \(SELECT l1\.id FROM fhir_resources l1 WHERE l1\.project_id = \$1 AND l1\.resource_type = \$3 AND NOT l1\.deleted/,
    );
    expect(sql).toMatch(
      /l1\.id IN \(SELECT i\.resource_id FROM fhir_index i WHERE i\.project_id = \$1 AND i\.resource_type = \$3/,
    );
    expect(sql).toContain('AND confined(l1, $');
    expect(params.values.slice(0, 3)).toEqual(['project-a', 'ExplanationOfBenefit', 'Patient']);
    expect(params.values).toContain('Patient');
    expect(params.values).toContain('urn:member');
  });

  it('turns _has around: the referring rows point at the searched one', () => {
    const request = parseSearchRequest('Patient', { '_has:Coverage:beneficiary:status': 'active' });
    const { sql } = buildWhere('project-a', request, confined);
    expect(sql).toMatch(
      /r\.id IN \(SELECT i\.ref_id FROM fhir_index i WHERE i\.project_id = \$1 AND i\.resource_type = \$3 AND i\.code = \$\d+ AND i\.ref_type = \$2 AND i\.resource_id IN \(SELECT l1\.id FROM fhir_resources l1/,
    );
    expect(sql).toContain('confined(l1, $');
  });

  it('gives every level of a nested chain its own alias, each confined', () => {
    const request = parseSearchRequest('Organization', { 'partof.partof.partof.name': 'x' });
    const { sql } = buildWhere('project-a', request, confined);
    for (const alias of ['l1', 'l2', 'l3']) {
      expect(sql).toContain(`FROM fhir_resources ${alias} WHERE ${alias}.project_id = $1`);
      expect(sql).toContain(`confined(${alias}, $`);
    }
  });

  it('correlates a negative condition inside a chain with the chained row', () => {
    const request = parseSearchRequest('Coverage', { 'beneficiary.gender:missing': 'true' });
    const { sql } = buildWhere('project-a', request);
    expect(sql).toContain('NOT EXISTS (SELECT 1 FROM fhir_index i WHERE i.project_id = l1.project_id');
    expect(sql).toContain('i.resource_id = l1.id');
  });
});
