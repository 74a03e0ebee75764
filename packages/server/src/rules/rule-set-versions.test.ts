import { describe, expect, it } from 'vitest';
import { diffLines } from './rule-set-versions.js';

describe('diffLines', () => {
  it('keeps common lines and prints a changed line as its removal, then its addition', () => {
    expect(diffLines(['{', '"a": 1,', '"b": 2', '}'], ['{', '"a": 3,', '"b": 2', '}'])).toEqual([
      { op: '=', text: '{' },
      { op: '-', text: '"a": 1,' },
      { op: '+', text: '"a": 3,' },
      { op: '=', text: '"b": 2' },
      { op: '=', text: '}' },
    ]);
  });

  it('finds insertions and deletions in the middle', () => {
    const diff = diffLines(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'd', 'e']);
    expect(diff.map((l) => `${l.op}${l.text}`)).toEqual(['=a', '-b', '+x', '=c', '=d', '+e']);
    expect(diffLines(['a'], ['a'])).toEqual([{ op: '=', text: 'a' }]);
  });
});
