import { describe, expect, it } from 'vitest';
import { CODE_SYSTEMS } from './codes.js';
import { createOperators } from './operators.js';

const now = new Date('2026-01-15T03:30:00Z'); // still 14 January in Chicago
const ops = createOperators({
  now,
  timeZone: 'UTC',
  valueSets: { cath: { system: 'cpt', codes: ['93456', '93457'] }, diabetes: { system: 'icd10cm', codes: ['E11*'] } },
});
const chicago = createOperators({ now, timeZone: 'America/Chicago', valueSets: {} });
const op = (name: string): ((fact: unknown, value: unknown) => boolean) => {
  const fn = ops[name];
  if (!fn) throw new Error(`no operator ${name}`);
  return fn;
};

describe('codeIn / inValueSet', () => {
  const codeIn = op('codeIn');
  it('matches bare codes, Codings, CodeableConcepts and arrays of them', () => {
    expect(codeIn('93456', ['93456'])).toBe(true);
    expect(codeIn(['99213', '93456'], ['93456'])).toBe(true);
    expect(codeIn({ system: CODE_SYSTEMS.cpt, code: '93456' }, { system: 'cpt', codes: ['93456'] })).toBe(true);
    expect(
      codeIn(
        {
          coding: [
            { system: 'x', code: '1' },
            { system: CODE_SYSTEMS.cpt, code: '93456' },
          ],
        },
        { system: 'cpt', codes: ['93456'] },
      ),
    ).toBe(true);
  });
  it('is system-aware: a code from another system does not match', () => {
    expect(codeIn({ system: CODE_SYSTEMS.hcpcs, code: '93456' }, { system: 'cpt', codes: ['93456'] })).toBe(false);
    expect(
      codeIn(
        [
          { system: 'http://snomed.info/sct', code: 'E0601' },
          { system: CODE_SYSTEMS.hcpcs, code: 'e0601' },
        ],
        { system: 'hcpcs', codes: ['E0601'] },
      ),
    ).toBe(true);
    expect(
      codeIn({ system: 'urn:oid:2.16.840.1.113883.6.12', code: '93456' }, { system: 'cpt', codes: ['93456'] }),
    ).toBe(true);
  });
  it('normalises ICD-10-CM dots and NDC 10/11-digit forms, and supports prefixes', () => {
    expect(codeIn({ system: CODE_SYSTEMS.icd10cm, code: 'E11.9' }, { system: 'icd10cm', codes: ['E119'] })).toBe(true);
    expect(op('inValueSet')({ system: CODE_SYSTEMS.icd10cm, code: 'E11.65' }, 'diabetes')).toBe(true);
    expect(op('inValueSet')({ system: CODE_SYSTEMS.icd10cm, code: 'E10.9' }, 'diabetes')).toBe(false);
    expect(codeIn('0002-8215-01', { system: 'ndc', codes: ['00002821501'] })).toBe(true);
    expect(codeIn('00002821501', { system: 'ndc', codes: ['0002-8215-01'] })).toBe(true);
  });
  it('is false for missing facts, empty lists and malformed values', () => {
    expect(codeIn(undefined, ['93456'])).toBe(false);
    expect(codeIn([], ['93456'])).toBe(false);
    expect(codeIn('93456', [])).toBe(false);
    expect(codeIn('93456', 'not-a-list')).toBe(false);
    expect(op('inValueSet')('93456', 'unknownSet')).toBe(false);
    expect(op('inValueSet')('93456', 'cath')).toBe(true);
  });
});

describe('date operators', () => {
  it('compares calendar dates in the value’s own offset, and instants when both have times', () => {
    expect(op('dateBefore')('2025-12-31T23:30:00-06:00', '2026-01-01')).toBe(true); // 1 Jan in UTC, 31 Dec locally
    expect(op('dateAfter')('2026-01-01T00:30:00+09:00', '2025-12-31T16:00:00Z')).toBe(false);
    expect(op('dateBefore')('2026-01-01T00:30:00+09:00', '2025-12-31T16:00:00Z')).toBe(true);
    expect(op('dateOnOrAfter')('2026-01-01', '2026-01-01')).toBe(true);
    expect(op('dateOnOrBefore')('2026-01-02', '2026-01-01')).toBe(false);
  });
  it('today is the date in the rule set time zone', () => {
    expect(op('dateOnOrAfter')('2026-01-15', 'today')).toBe(true);
    expect(chicago['dateOnOrAfter']?.('2026-01-15', 'today')).toBe(true);
    expect(chicago['dateBefore']?.('2026-01-14', 'today')).toBe(false); // Chicago is still on 14 January
  });
  it('dateWithin looks back, forward or both', () => {
    const within = op('dateWithin');
    expect(within('2025-03-01', { months: 12, direction: 'past' })).toBe(true);
    expect(within('2024-12-31', { months: 12, direction: 'past' })).toBe(false);
    expect(within('2026-01-20', { days: 7, direction: 'past' })).toBe(false);
    expect(within('2026-01-20', { days: 7 })).toBe(true);
    expect(within(['2019-01-01', '2025-11-03T21:30:00-06:00'], { years: 1, direction: 'past' })).toBe(true);
    expect(within([], { years: 1 })).toBe(false);
  });
  it('is false for missing or malformed dates', () => {
    expect(op('dateBefore')(undefined, 'today')).toBe(false);
    expect(op('dateBefore')('15/01/2026', 'today')).toBe(false);
    expect(op('dateBefore')('2026-13-01', 'today')).toBe(false);
    expect(op('dateBefore')('2026-01-01', 'yesterday')).toBe(false);
  });
});

describe('ageAtDate', () => {
  const age = op('ageAtDate');
  it('counts whole years at today or a given date', () => {
    expect(age('2008-01-06', { compare: 'gte', years: 18 })).toBe(true);
    expect(age('2008-01-16', { compare: 'lt', years: 18 })).toBe(true);
    expect(age('2008-01-16', { compare: 'gte', years: 18, at: '2026-01-16' })).toBe(true);
    // A 29 February birthday turns a year older on 1 March in common years.
    expect(age('2000-02-29', { compare: 'eq', years: 0, at: '2001-02-28' })).toBe(true);
    expect(age('2000-02-29', { compare: 'eq', years: 1, at: '2001-03-01' })).toBe(true);
  });
  it('is false without a birth date', () => {
    expect(age(undefined, { compare: 'lt', years: 200 })).toBe(false);
  });
});

describe('quantityCompare and exists', () => {
  it('compares numbers and Quantities, with units when both give one', () => {
    const q = op('quantityCompare');
    expect(q(3, { compare: 'gt', value: 2 })).toBe(true);
    expect(q({ value: 30, unit: 'd' }, { compare: 'lte', value: 30, unit: 'd' })).toBe(true);
    expect(q({ value: 30, code: 'mo' }, { compare: 'lte', value: 30, unit: 'd' })).toBe(false);
    expect(q({ value: 30 }, { compare: 'lte', value: 30, unit: 'd' })).toBe(false);
    expect(q(undefined, { compare: 'lt', value: 1 })).toBe(false);
    expect(q('3', { compare: 'gt', value: 2 })).toBe(false);
  });
  it('exists is true for present, non-empty values', () => {
    const exists = op('exists');
    expect(exists('x', true)).toBe(true);
    expect(exists([], true)).toBe(false);
    expect(exists(undefined, false)).toBe(true);
    expect(exists('', false)).toBe(true);
    expect(exists(0, true)).toBe(true);
  });
});

describe('hostile input', () => {
  it('stays linear on long strings and never throws', () => {
    const long = 'a'.repeat(1_000_000);
    for (const [name, fn] of Object.entries(ops)) {
      expect(() => fn(long, long), name).not.toThrow();
      expect(
        () =>
          fn(
            {
              get code(): string {
                throw new Error('x');
              },
            },
            ['a'],
          ),
        name,
      ).not.toThrow();
    }
    expect(op('dateBefore')(`2026-01-01${'0'.repeat(100_000)}`, 'today')).toBe(false);
  });
});
