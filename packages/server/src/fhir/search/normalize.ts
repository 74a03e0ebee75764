/** String search is case- and accent-insensitive (FHIR R4 search §3.1.1.4.7 "string"). */
export function normalizeString(value: string): string {
  return value
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

/** Escapes LIKE wildcards; PostgreSQL's default LIKE escape character is the backslash. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
