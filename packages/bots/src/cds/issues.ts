/** A problem found in CDS Hooks input or output, located by a JSON path (`context.patientId`, `cards[0].summary`). */
export interface CdsIssue {
  message: string;
  path: string;
}

/** `cards[0]` + `summary` → `cards[0].summary`; `cards` + `[1]` → `cards[1]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}
