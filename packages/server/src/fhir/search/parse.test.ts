import { describe, expect, it } from 'vitest';
import { HookbotError } from '../../infra/errors.js';
import { parseSearchRequest, RESULT_PARAMETERS } from './parse.js';

function rejected(fn: () => unknown): HookbotError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(HookbotError);
  return caught as HookbotError;
}

describe('parseSearchRequest', () => {
  it('splits modifiers, comma values (with \\, escapes) and keeps repeated parameters apart', () => {
    const req = parseSearchRequest('Patient', new URLSearchParams('name:exact=a\\,b,c&name=d&gender:not=male'));
    expect(req.filters.map((f) => [f.code, f.modifier, f.values])).toEqual([
      ['name', 'exact', ['a,b', 'c']],
      ['name', undefined, ['d']],
      ['gender', 'not', ['male']],
    ]);
  });

  it('reads paging, total, sort and includes; caps _count', () => {
    const req = parseSearchRequest('Coverage', {
      _count: '5000',
      _offset: '40',
      _total: 'accurate',
      _sort: '-_lastUpdated,status',
      _include: 'Coverage:beneficiary:Patient',
      _revinclude: 'Claim:insurer',
    });
    expect(req.count).toBe(1000);
    expect(req.offset).toBe(40);
    expect(req.total).toBe('accurate');
    expect(req.sort.map((s) => [s.code, s.descending])).toEqual([
      ['_lastUpdated', true],
      ['status', false],
    ]);
    expect(req.include).toEqual([{ sourceType: 'Coverage', codes: ['beneficiary'], targetType: 'Patient' }]);
    expect(req.entries.find(([k]) => k === '_count')).toBeUndefined();
  });

  it('turns a resource type modifier on a reference into a type filter', () => {
    expect(parseSearchRequest('Coverage', { 'beneficiary:Patient': '1' }).filters[0]?.modifier).toBe('type:Patient');
  });

  it('knows _id and _lastUpdated on every type, and cds-hook on Bot', () => {
    expect(parseSearchRequest('Binary', { _id: 'x', _lastUpdated: 'gt2020' }).filters).toHaveLength(2);
    expect(parseSearchRequest('Bot', { 'cds-hook': 'order-sign' }).filters[0]?.param.type).toBe('token');
  });

  it.each([
    [{ 'shoe-size': '4' }, 'shoe-size'],
    [{ 'subject.name': 'x' }, 'subject.name'],
    [{ 'name:below': 'x' }, 'name:below'],
    [{ _count: 'ten' }, '_count'],
    [{ _total: 'all' }, '_total'],
    [{ _include: 'Patient:name' }, '_include'],
    [{ _elements: 'id' }, '_elements'],
  ])('rejects %j with 400 naming %s', (query, name) => {
    const err = rejected(() => parseSearchRequest('Patient', query));
    expect(err.status).toBe(400);
    expect(err.issues[0]?.expression).toEqual([name]);
  });

  it('rejects unsupported resource types', () => {
    expect(rejected(() => parseSearchRequest('Observation', {})).status).toBe(400);
  });
});

describe('search size limits', () => {
  it('refuses more than 1,000 values in one parameter and more than 100 parameters', () => {
    const many = Array.from({ length: 1001 }, (_, i) => `v${i}`).join(',');
    expect(() => parseSearchRequest('Patient', { family: many })).toThrow(/more than 1000 values/);
    const params = new URLSearchParams();
    for (let i = 0; i < 101; i++) params.append('family', `f${i}`);
    expect(() => parseSearchRequest('Patient', params)).toThrow(/at most 100 parameters/);
  });
});

describe('RESULT_PARAMETERS (what the CapabilityStatement declares)', () => {
  /** FHIR R4's result parameters (search §3.1.1.5.x) and the values each may take. */
  const STANDARD: Record<string, string[]> = {
    _count: ['10'],
    _offset: ['20'],
    _sort: ['-_lastUpdated'],
    _total: ['none', 'estimate', 'accurate'],
    _summary: ['true', 'text', 'data', 'count', 'false'],
    _elements: ['identifier'],
    _include: ['Coverage:beneficiary'],
    _revinclude: ['ExplanationOfBenefit:coverage'],
    _contained: ['true'],
    _containedType: ['container'],
  };

  it('accepts every declared parameter and value, and refuses the standard ones it does not declare', () => {
    for (const [name, values] of Object.entries(STANDARD)) {
      const declared = RESULT_PARAMETERS.find((p) => p.name === name);
      for (const value of values) {
        const accepted = !declared
          ? false
          : 'values' in declared
            ? (declared.values as readonly string[]).includes(value)
            : true;
        const parse = () => parseSearchRequest('Coverage', { [name]: value });
        if (accepted) expect(parse, `${name}=${value}`).not.toThrow();
        else expect(rejected(parse).status, `${name}=${value}`).toBe(400);
      }
    }
    expect(RESULT_PARAMETERS.every((p) => p.name in STANDARD)).toBe(true);
  });
});
