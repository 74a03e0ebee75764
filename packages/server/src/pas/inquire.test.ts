import type { Claim } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { datesMatch, serviceRanges } from './inquire.js';

const claim = (fields: Partial<Claim>): Claim => ({ resourceType: 'Claim', ...fields }) as Claim;

describe('$inquire service dates', () => {
  it('read billablePeriod and items’ servicedDate and servicedPeriod, by day', () => {
    const ranges = serviceRanges(
      claim({
        billablePeriod: { start: '2026-03-01T08:00:00Z' },
        item: [
          { sequence: 1, servicedDate: '2026-03-10' },
          { sequence: 2, servicedPeriod: { start: '2026-04-01', end: '2026-04' } },
          { sequence: 3 },
        ] as Claim['item'],
      }),
    );
    expect(ranges).toEqual([
      ['2026-03-01', '\uffff'],
      ['2026-03-10', '2026-03-10\uffff'],
      ['2026-04-01', '2026-04\uffff'],
    ]);
  });

  it('match overlapping ranges, including partial dates, and never exclude a request without dates', () => {
    const requested = serviceRanges(claim({ item: [{ sequence: 1, servicedDate: '2026-03-10' }] as Claim['item'] }));
    const inquiry = (start?: string, end?: string) => serviceRanges(claim({ billablePeriod: { start, end } }));
    expect(datesMatch(inquiry('2026-03-01', '2026-03-31'), requested)).toBe(true);
    expect(datesMatch(inquiry('2026-03-10', '2026-03-10'), requested)).toBe(true);
    expect(datesMatch(inquiry('2026-03'), requested)).toBe(true);
    expect(datesMatch(inquiry(undefined, '2026-03'), requested)).toBe(true);
    expect(datesMatch(inquiry('2026-03-11', '2026-03-31'), requested)).toBe(false);
    expect(datesMatch(inquiry(undefined, '2026-03-09'), requested)).toBe(false);
    expect(datesMatch(inquiry('2026-04'), requested)).toBe(false);
    expect(datesMatch(inquiry('2026-04-01'), [])).toBe(true);
    expect(datesMatch([], requested)).toBe(true);
  });
});
