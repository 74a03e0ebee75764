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
    expect(req.include).toEqual([
      { sourceType: 'Coverage', codes: ['beneficiary'], targetType: 'Patient', iterate: false },
    ]);
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
    [{ _elements: 'shoeSize' }, '_elements'],
    [{ _summary: 'maybe' }, '_summary'],
  ])('rejects %j with 400 naming %s', (query, name) => {
    const err = rejected(() => parseSearchRequest('Patient', query));
    expect(err.status).toBe(400);
    expect(err.issues[0]?.expression).toEqual([name]);
  });

  it('rejects unsupported resource types', () => {
    expect(rejected(() => parseSearchRequest('Observation', {})).status).toBe(400);
  });
});

describe('chained and reverse-chained parameters', () => {
  it('reads a chain through a reference to its only target type, the tail with its modifier', () => {
    const [filter] = parseSearchRequest('ExplanationOfBenefit', { 'patient.identifier': 'urn:member|M-1' }).filters;
    expect(filter?.code).toBe('patient');
    expect(filter?.link?.direction).toBe('forward');
    expect(filter?.link?.type).toBe('Patient');
    expect(filter?.link?.filter).toMatchObject({ code: 'identifier', values: ['urn:member|M-1'] });
    const [exact] = parseSearchRequest('Coverage', { 'beneficiary.family:exact': 'Smith' }).filters;
    expect(exact?.link?.filter).toMatchObject({ code: 'family', modifier: 'exact' });
  });

  it('takes the type from a modifier, or from the one target that has the next parameter', () => {
    const typed = parseSearchRequest('Coverage', { 'beneficiary:Patient.birthdate': '1980' }).filters[0];
    expect(typed?.link?.type).toBe('Patient');
    // ServiceRequest.requester may be a Practitioner, an Organization, a Patient or a PractitionerRole.
    const named = parseSearchRequest('ServiceRequest', { 'requester:Organization.name': 'Acme' }).filters[0];
    expect(named?.link?.type).toBe('Organization');
  });

  it('nests chains and _has up to three links', () => {
    const [filter] = parseSearchRequest('Organization', { 'partof.partof.partof.name': 'x' }).filters;
    expect(filter?.link?.filter.link?.filter.link?.filter.code).toBe('name');
    const [has] = parseSearchRequest('Patient', {
      '_has:Coverage:beneficiary:_has:ExplanationOfBenefit:coverage:status': 'active',
    }).filters;
    expect(has?.link).toMatchObject({ direction: 'reverse', type: 'Coverage' });
    expect(has?.code).toBe('beneficiary');
    const err = rejected(() => parseSearchRequest('Organization', { 'partof.partof.partof.partof.name': 'x' }));
    expect(err.errorCode).toBe('fhir.search-too-costly');
    expect(err.message).toMatch(/more than 3 links/);
  });

  it('reads _has:Type:reference:parameter, with a chain or modifier in its tail', () => {
    const [filter] = parseSearchRequest('Patient', { '_has:Coverage:beneficiary:status:not': 'active' }).filters;
    expect(filter).toMatchObject({ code: 'beneficiary', values: [] });
    expect(filter?.link).toMatchObject({ direction: 'reverse', type: 'Coverage' });
    expect(filter?.link?.filter).toMatchObject({ code: 'status', modifier: 'not', values: ['active'] });
    const chained = parseSearchRequest('Patient', { '_has:Coverage:beneficiary:payor:Organization.name': 'Acme' });
    expect(chained.filters[0]?.link?.filter.link?.type).toBe('Organization');
  });

  it.each([
    [{ 'requester.name': 'x' }, /Ambiguous chain .*Practitioner, Organization, Patient; name the type/],
    [{ 'requester:Bot.name': 'x' }, /does not refer to "Bot"/],
    [{ 'status.name': 'x' }, /"status" is not a reference parameter/],
    [{ 'requester:Patient.shoe': 'x' }, /Unknown search parameter "shoe" for Patient/],
    [{ 'subject.shoe': 'x' }, /no type ServiceRequest.subject refers to has the parameter "shoe"/],
    [{ '_has:Coverage:beneficiary': 'x' }, /expected _has:Type:reference:parameter/],
    [{ '_has:Observation:subject:code': 'x' }, /expected _has:Type:reference:parameter/],
    [{ '_has:Coverage:status:status': 'x' }, /"status" is not a reference parameter of Coverage/],
    [{ '_has:Coverage:beneficiary:status': 'x' }, /Coverage.beneficiary never refers to ServiceRequest/],
  ])('rejects %j with 400 naming the parameter', (query, message) => {
    const err = rejected(() => parseSearchRequest('ServiceRequest', query));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(message);
    expect(err.issues[0]?.expression).toEqual(Object.keys(query));
  });

  it('answers a composite parameter with a 400 that says why', () => {
    const err = rejected(() => parseSearchRequest('Questionnaire', { 'context-type-value': 'focus$x' }));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/Composite search parameter "context-type-value" is not supported/);
  });

  it('lets _include:iterate start from any type', () => {
    const req = parseSearchRequest('Coverage', {
      _include: 'Coverage:beneficiary',
      '_include:iterate': 'Patient:general-practitioner',
      '_revinclude:iterate': 'Claim:patient',
    });
    expect(req.include.map((r) => [r.sourceType, r.iterate])).toEqual([
      ['Coverage', false],
      ['Patient', true],
    ]);
    expect(req.revinclude[0]?.iterate).toBe(true);
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
