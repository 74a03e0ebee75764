/** The rule-set document as the form edits it: plain JSON, changed immutably by JSON pointer. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const escapePointer = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');

function segments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

export function getAt(doc: Json, pointer: string): Json | undefined {
  let node: Json | undefined = doc;
  for (const key of segments(pointer)) {
    if (Array.isArray(node)) node = node[Number(key)];
    else if (node && typeof node === 'object') node = node[key];
    else return undefined;
  }
  return node;
}

/** A copy of `doc` with the value at `pointer` replaced (`undefined` removes it). */
export function setAt(doc: Json, pointer: string, value: Json | undefined): Json {
  const keys = segments(pointer);
  const rec = (node: Json | undefined, i: number): Json | undefined => {
    if (i === keys.length) return value;
    const key = keys[i] as string;
    if (Array.isArray(node)) {
      const copy = [...node];
      const next = rec(copy[Number(key)], i + 1);
      if (next === undefined) copy.splice(Number(key), 1);
      else copy[Number(key)] = next;
      return copy;
    }
    const obj: JsonObject = node && typeof node === 'object' ? { ...node } : {};
    const next = rec(obj[key], i + 1);
    if (next === undefined) delete obj[key];
    else obj[key] = next;
    return obj;
  };
  return rec(doc, 0) ?? null;
}

/** Renames an object key in place of order (facts and value sets keep their order). */
export function renameKey(obj: JsonObject, from: string, to: string): JsonObject {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k === from ? to : k, v]));
}
