import { describe, expect, it } from 'vitest';
import { validateFeedback, type FeedbackValidation } from './feedback.js';

const item = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  card: '9368d37b-283f-44a0-93ea-547cebab93ac',
  outcome: 'overridden',
  outcomeTimestamp: '2021-12-11T10:05:31Z',
  ...overrides,
});
const paths = (result: FeedbackValidation): string[] => (result.ok ? [] : result.issues.map((i) => i.path));
const items = (result: FeedbackValidation) => {
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.items;
};
const reason = {
  reason: { code: 'reason-code-provided-by-service', system: 'http://example.org/r', display: 'Patient refused' },
  userComment: 'Lives far',
};

describe('validateFeedback', () => {
  it('accepts the spec example of an accepted suggestion', () => {
    const body = {
      feedback: [item({ outcome: 'accepted', acceptedSuggestions: [{ id: 'e56e1945-20b3-4393-8503-a1a20fd73152' }] })],
    };
    expect(items(validateFeedback(body))).toEqual([
      {
        card: '9368d37b-283f-44a0-93ea-547cebab93ac',
        outcome: 'accepted',
        acceptedSuggestions: ['e56e1945-20b3-4393-8503-a1a20fd73152'],
        outcomeTimestamp: '2021-12-11T10:05:31.000Z',
      },
    ]);
  });

  it('reads overrideReason', () => {
    expect(items(validateFeedback({ feedback: [item({ overrideReason: reason })] }))[0]?.overrideReason).toEqual(
      reason,
    );
  });

  it('reads Epic overrideReasons (a list or one object)', () => {
    expect(items(validateFeedback({ feedback: [item({ overrideReasons: [reason] })] }))[0]?.overrideReason).toEqual(
      reason,
    );
    expect(items(validateFeedback({ feedback: [item({ overrideReasons: reason })] }))[0]?.overrideReason).toEqual(
      reason,
    );
  });

  it('accepts non-UUID card ids and a bare array of items', () => {
    const result = validateFeedback([item({ card: 'epic-card-7' })]);
    expect(items(result)[0]?.card).toBe('epic-card-7');
    expect(result.ok && result.warnings).toEqual(['feedback items were sent as a bare array']);
  });

  it('normalises the timestamp to UTC', () => {
    expect(
      items(validateFeedback({ feedback: [item({ outcomeTimestamp: '2021-12-11T12:05:31+02:00' })] }))[0]
        ?.outcomeTimestamp,
    ).toBe('2021-12-11T10:05:31.000Z');
  });

  it.each([null, 'x', {}, { feedback: {} }, { feedback: [] }])('refuses %j', (body) =>
    expect(paths(validateFeedback(body))).toEqual(['feedback']),
  );

  it('names each bad field by path', () => {
    const body = {
      feedback: [
        item(),
        'x',
        {
          outcome: 'ignored',
          outcomeTimestamp: 'yesterday',
          acceptedSuggestions: [{}],
          overrideReason: { reason: 'x', userComment: 1 },
        },
      ],
    };
    expect(paths(validateFeedback(body))).toEqual([
      'feedback[1]',
      'feedback[2].card',
      'feedback[2].outcome',
      'feedback[2].outcomeTimestamp',
      'feedback[2].acceptedSuggestions[0].id',
      'feedback[2].overrideReason.reason',
      'feedback[2].overrideReason.userComment',
    ]);
  });

  it('names a bad Epic override reason', () =>
    expect(paths(validateFeedback({ feedback: [item({ overrideReasons: ['x'] })] }))).toEqual([
      'feedback[0].overrideReasons[0]',
    ]));

  it('requires acceptedSuggestions to be an array', () =>
    expect(paths(validateFeedback({ feedback: [item({ acceptedSuggestions: 'a' })] }))).toEqual([
      'feedback[0].acceptedSuggestions',
    ]));
});
