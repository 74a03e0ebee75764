export interface ParsedReference {
  type: string;
  id: string;
}

const REF_RE = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/** `Patient/1`, `Patient/1/_history/2` or an absolute URL ending in either; `#contained` and others give undefined. */
export function parseReference(reference: string): ParsedReference | undefined {
  const m = REF_RE.exec(reference);
  return m?.[1] && m[2] ? { type: m[1], id: m[2] } : undefined;
}
