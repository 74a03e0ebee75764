import { describe, expect, it } from 'vitest';
import { checkDecision, pendAll } from './decision.js';

describe('checkDecision', () => {
  it('accepts one decision per item with what each action needs', () => {
    const checked = checkDecision(
      {
        items: [
          {
            sequence: 1,
            action: 'A1',
            authorizationNumber: 'AUTH1',
            period: { start: '2024-01-01', end: '2024-02-01' },
          },
          { sequence: 2, action: 'A6', authorized: { quantity: 2 } },
          { sequence: 3, action: 'A4', documentation: [{ code: '11506-3' }] },
        ],
      },
      [1, 2, 3],
    );
    expect(checked.ok).toBe(true);
  });

  it.each([
    [null, /no "items"/],
    [{ items: [{ sequence: 1, action: 'OK' }] }, /action must be one of/],
    [{ items: [] }, /no decision for item\(s\) 1/],
    [
      {
        items: [
          { sequence: 1, action: 'A1' },
          { sequence: 1, action: 'A1' },
        ],
      },
      /not an item to decide/,
    ],
    [{ items: [{ sequence: 1, action: 'A6' }] }, /needs "authorized"/],
    [{ items: [{ sequence: 1, action: 'A1', period: { start: 'tomorrow' } }] }, /period/],
  ])('refuses %j', (output, reason) => {
    const checked = checkDecision(output, [1]);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.reason).toMatch(reason);
  });

  it('pends every item with the reason', () => {
    expect(pendAll([1, 2], 'why')).toEqual({
      items: [
        { sequence: 1, action: 'A4', note: 'why' },
        { sequence: 2, action: 'A4', note: 'why' },
      ],
      note: 'why',
    });
  });
});
