/**
 * The `pathResolver` handed to json-rules-engine instead of its default jsonpath-plus (which has had code-execution
 * flaws, CVE-2024-21534). Paths are `a.b[0].c` (an optional leading `$.` is accepted); only own properties of
 * plain objects and arrays are walked, and `__proto__`, `prototype` and `constructor` are refused.
 */
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);
const MAX_SEGMENTS = 32;

export type PathSegment = string | number;

/** Splits a path into segments, or returns an error sentence. Linear scan: no regular expression. */
export function parsePath(path: string): PathSegment[] | string {
  let rest = path.startsWith('$.') ? path.slice(2) : path.startsWith('$[') ? path.slice(1) : path;
  if (rest.length === 0) return 'path is empty';
  const segments: PathSegment[] = [];
  while (rest.length > 0) {
    if (segments.length >= MAX_SEGMENTS) return `path has more than ${MAX_SEGMENTS} segments`;
    if (rest.startsWith('[')) {
      const end = rest.indexOf(']');
      const digits = end > 1 ? rest.slice(1, end) : '';
      if (!isDigits(digits) || digits.length > 6) return 'an index must be written [n] with digits only';
      segments.push(Number(digits));
      rest = rest.slice(end + 1);
    } else {
      if (segments.length > 0) {
        if (!rest.startsWith('.')) return `unexpected character '${rest[0] ?? ''}'`;
        rest = rest.slice(1);
      }
      let i = 0;
      while (i < rest.length && isNameChar(rest.charCodeAt(i))) i++;
      const name = rest.slice(0, i);
      if (name.length === 0) return 'a property name may use letters, digits and _ only';
      if (FORBIDDEN.has(name)) return `the property '${name}' is not allowed`;
      segments.push(name);
      rest = rest.slice(i);
    }
  }
  return segments;
}

export function resolvePath(value: unknown, path: string): unknown {
  const segments = parsePath(path);
  if (typeof segments === 'string') return undefined;
  let current: unknown = value;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      if (typeof segment !== 'number' || segment >= current.length) return undefined;
      current = current[segment];
      continue;
    }
    const proto: unknown = Object.getPrototypeOf(current);
    if (proto !== Object.prototype && proto !== null) return undefined;
    const key = String(segment);
    if (!Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
