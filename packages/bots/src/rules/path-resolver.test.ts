import { describe, expect, it } from 'vitest';
import { parsePath, resolvePath } from './path-resolver.js';

describe('resolvePath', () => {
  const value = { a: { b: [{ c: 1 }, { c: 2 }] }, code: 'x' };

  it('walks dotted names and indexes, with or without a leading $.', () => {
    expect(resolvePath(value, 'a.b[1].c')).toBe(2);
    expect(resolvePath(value, '$.a.b[0].c')).toBe(1);
    expect(resolvePath(value, 'code')).toBe('x');
  });

  it('returns undefined for missing properties, out-of-range indexes and non-objects', () => {
    expect(resolvePath(value, 'a.nope')).toBeUndefined();
    expect(resolvePath(value, 'a.b[5]')).toBeUndefined();
    expect(resolvePath('text', 'length')).toBeUndefined();
    expect(resolvePath(value, 'a.b.length')).toBeUndefined();
  });

  it('refuses prototype pollution paths', () => {
    expect(resolvePath({}, '__proto__')).toBeUndefined();
    expect(resolvePath({}, 'constructor.prototype')).toBeUndefined();
    expect(resolvePath({ a: {} }, 'a.constructor')).toBeUndefined();
    expect(parsePath('a.__proto__.b')).toBe("the property '__proto__' is not allowed");
    expect(parsePath('prototype')).toBe("the property 'prototype' is not allowed");
  });

  it('does not read inherited or class-instance properties', () => {
    const inherited = Object.create({ secret: 1 }) as Record<string, unknown>;
    expect(resolvePath(inherited, 'secret')).toBeUndefined();
    expect(resolvePath({ d: new Date(0) }, 'd.getTime')).toBeUndefined();
    expect(resolvePath({ m: new Map([['k', 1]]) }, 'm.size')).toBeUndefined();
  });

  it('rejects JSONPath syntax (filters, wildcards, recursive descent)', () => {
    expect(typeof parsePath('$..[?(@.constructor.constructor("return process")())]')).toBe('string');
    expect(typeof parsePath('a.*')).toBe('string');
    expect(typeof parsePath('a[-1]')).toBe('string');
    expect(typeof parsePath('')).toBe('string');
    expect(typeof parsePath('a.'.repeat(40) + 'b')).toBe('string');
  });
});
