import { describe, expect, it } from 'vitest';
import { findUnstorable, MAX_JSON_DEPTH, storableText, unstorableText } from './storable.js';

describe('unstorableText', () => {
  it('names a NUL and a lone surrogate, and accepts paired surrogates', () => {
    expect(unstorableText('a\u0000b')).toMatch(/NUL/);
    expect(unstorableText('a\ud800')).toMatch(/lone UTF-16 surrogate/);
    expect(unstorableText('\udc00a')).toMatch(/lone UTF-16 surrogate/);
    expect(unstorableText('emoji \ud83d\ude00 and é')).toBeUndefined();
  });
});

describe('storableText', () => {
  it('replaces NULs and lone surrogates with U+FFFD, keeping pairs', () => {
    expect(storableText('a\u0000b\u0000')).toBe('a\ufffdb\ufffd');
    expect(storableText('\udc00x\ud83d\ude00y\ud83d')).toBe('\ufffdx\ud83d\ude00y\ufffd');
    const fine = 'plain é \ud83d\ude00';
    expect(storableText(fine)).toBe(fine);
  });
});

describe('findUnstorable', () => {
  it('locates the first problem by its path', () => {
    expect(findUnstorable({ name: [{ family: 'ok' }, { given: ['x', 'a\u0000'] }] })?.path).toBe('name[1].given[1]');
    expect(findUnstorable(['ok', { 'k\ud800': 1 }])).toEqual({
      path: '[1]',
      message: expect.stringMatching(/property name contains a lone/) as string,
    });
    expect(findUnstorable('a\u0000')?.path).toBe('');
    expect(findUnstorable({ resourceType: 'Patient', name: [{ family: 'Smith' }] })).toBeUndefined();
  });

  it('accepts MAX_JSON_DEPTH levels and refuses one more, at any depth, without recursion', () => {
    const nest = (depth: number) => {
      let v: unknown = 1;
      for (let i = 0; i < depth; i++) v = [v];
      return v;
    };
    expect(findUnstorable(nest(MAX_JSON_DEPTH))).toBeUndefined();
    expect(findUnstorable(nest(MAX_JSON_DEPTH + 1))?.message).toMatch(`nested deeper than ${MAX_JSON_DEPTH}`);
    expect(findUnstorable(nest(1_000_000))?.message).toMatch(/nested deeper/);
  });
});
