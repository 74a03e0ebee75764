/**
 * What PostgreSQL (and so PGlite) cannot hold, found before it gets there: a NUL character (refused in `text` and
 * `jsonb`), a lone UTF-16 surrogate (refused in `jsonb`; silently replaced in `text`), and JSON nested deeper than
 * `MAX_JSON_DEPTH` (the validators and serializers recurse, so a deeper document would overflow the stack). Request
 * input is checked by the body parser; writes and searches check again, since bots call the store directly.
 */
import type { LocatedProblem } from './errors.js';

/** Deepest JSON nesting accepted (objects and arrays; the root is level 1). FHIR resources stay far below it. */
export const MAX_JSON_DEPTH = 100;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` cannot be stored, or undefined when it can. */
export function unstorableText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000), which cannot be stored';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (invalid Unicode), which cannot be stored';
  return undefined;
}

/**
 * `text` with each NUL and lone surrogate replaced by U+FFFD: for text the server records rather than refuses (a
 * bot's logs, or any text cut to a length, which may split a surrogate pair).
 */
export function storableText(text: string): string {
  if (!unstorableText(text)) return text;
  return text.replaceAll('\u0000', '\ufffd').replace(new RegExp(LONE_SURROGATE, 'g'), '\ufffd');
}

interface Frame {
  value: unknown;
  depth: number;
  parent?: Frame;
  key?: string | number;
}

function pathOf(frame: Frame): string {
  let path = '';
  for (let f: Frame | undefined = frame; f?.parent; f = f.parent) {
    if (typeof f.key === 'number') path = `[${f.key}]${path}`;
    else path = `${f.parent.parent ? '.' : ''}${String(f.key)}${path}`;
  }
  return path;
}

/**
 * The first string, key or nesting level of a parsed JSON value that cannot be stored, located by a path such as
 * `name[0].family` (empty for the root). Walks with an explicit stack, so any depth is safe to inspect.
 */
export function findUnstorable(value: unknown, maxDepth = MAX_JSON_DEPTH): LocatedProblem | undefined {
  const stack: Frame[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const v = frame.value;
    if (typeof v === 'string') {
      const why = unstorableText(v);
      if (why) return { path: pathOf(frame), message: `The value ${why}` };
    } else if (typeof v === 'object' && v !== null) {
      const depth = frame.depth + 1;
      if (depth > maxDepth) {
        return { path: pathOf(frame), message: `JSON is nested deeper than ${maxDepth} levels` };
      }
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth, parent: frame, key: i });
      } else {
        const keys = Object.keys(v);
        for (let i = keys.length - 1; i >= 0; i--) {
          const key = keys[i] as string;
          const why = unstorableText(key);
          if (why) return { path: pathOf(frame), message: `A property name ${why}` };
          stack.push({ value: (v as Record<string, unknown>)[key], depth, parent: frame, key });
        }
      }
    }
  }
  return undefined;
}
