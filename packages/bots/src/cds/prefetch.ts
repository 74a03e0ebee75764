/**
 * Prefetch templates (CDS Hooks 2.0 "Prefetch Template", "Prefetch tokens"): parse a template, render it against a
 * request, and list the keys a request did not supply.
 *
 * Supported tokens: `{{context.x}}` (and `{{context.x.y}}` into a context object), `{{userPractitionerId}}`,
 * `{{userPractitionerRoleId}}`, `{{userPatientId}}`, `{{userRelatedPersonId}}`. FHIRPath tokens of the 3.0 ballot
 * (`resolve()`, `%key`, `today()`) are refused: the service could not render them when the client does not.
 */
import type { CdsPrefetchTemplate } from './types.js';
import { isRecord, parseReference } from './util.js';

export type PrefetchQueryParse =
  { ok: true; interaction: 'read' | 'search'; resourceType?: string; tokens: string[] } | { ok: false; issue: string };

export type PrefetchRender = { ok: true; url: string } | { ok: false; reason: string };

const USER_TOKENS: Record<string, string> = {
  userPractitionerId: 'Practitioner',
  userPractitionerRoleId: 'PractitionerRole',
  userPatientId: 'Patient',
  userRelatedPersonId: 'RelatedPerson',
};

const TOKEN_RE = /\{\{(.*?)\}\}/g;
const CONTEXT_TOKEN_RE = /^context(\.[A-Za-z_][A-Za-z0-9_-]*)+$/;
const READ_RE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]+)$/;
const SEARCH_RE = /^([A-Z][A-Za-z]+)\?([^?#\s]+)$/;

/** A relative FHIR read (`Type/id`) or search (`Type?params`) URL, possibly made of tokens; no scheme, host or `..`. */
export function parsePrefetchQuery(query: string): PrefetchQueryParse {
  if (typeof query !== 'string' || query.trim() === '') return { ok: false, issue: 'The query is empty' };
  const tokens: string[] = [];
  for (const match of query.matchAll(TOKEN_RE)) {
    const token = (match[1] ?? '').trim();
    if (!(token in USER_TOKENS) && !CONTEXT_TOKEN_RE.test(token)) {
      return { ok: false, issue: `Unsupported prefetch token {{${token}}}` };
    }
    tokens.push(token);
  }
  // Tokens stand for a URL-safe value while the shape is checked.
  const shape = query.replace(TOKEN_RE, 'x');
  if (shape.includes('{{') || shape.includes('}}')) return { ok: false, issue: 'Unbalanced {{ }} in the query' };
  if (query.trim() !== query) return { ok: false, issue: 'The query has leading or trailing spaces' };
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(shape) || shape.startsWith('/') || shape.includes('\\')) {
    return { ok: false, issue: 'The query must be relative to fhirServer (no scheme, host or leading /)' };
  }
  if (/(^|\/)\.\.?(\/|\?|$)/.test(shape) || /%2e/i.test(shape)) {
    return { ok: false, issue: 'The query must not contain . or .. path segments' };
  }
  // `{{context.userId}}` alone renders to `Type/id`: a read (CDS Hooks 2.0 "Prefetch tokens" example).
  if (/^\{\{\s*context\.[A-Za-z]+\s*\}\}$/.test(query)) return { ok: true, interaction: 'read', tokens };
  const read = READ_RE.exec(shape);
  if (read) return { ok: true, interaction: 'read', resourceType: read[1], tokens };
  const search = SEARCH_RE.exec(shape);
  if (search) return { ok: true, interaction: 'search', resourceType: search[1], tokens };
  return { ok: false, issue: 'The query must be a FHIR read (Type/id) or search (Type?params)' };
}

/** Fills a template from the request; values are URL-encoded; a token without a value makes it not renderable. */
export function renderPrefetchTemplate(query: string, request: { context: Record<string, unknown> }): PrefetchRender {
  const parsed = parsePrefetchQuery(query);
  if (!parsed.ok) return { ok: false, reason: parsed.issue };
  const whole = /^\{\{[^}]*\}\}$/.test(query);
  let failure: string | undefined;
  const url = query.replace(TOKEN_RE, (_m, raw: string) => {
    const token = raw.trim();
    const values = tokenValues(token, request.context);
    if (values === undefined) {
      failure ??= `{{${token}}} has no value in this request`;
      return '';
    }
    // A template that is one token (`{{context.userId}}`) renders to a reference: keep its `/`.
    return values
      .map((v) => (whole ? v.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(v)))
      .join(',');
  });
  if (failure) return { ok: false, reason: failure };
  const check = parsePrefetchQuery(url);
  if (!check.ok) return { ok: false, reason: `The rendered query is not usable: ${check.issue}` };
  return { ok: true, url };
}

function tokenValues(token: string, context: Record<string, unknown>): string[] | undefined {
  const userType = USER_TOKENS[token];
  if (userType) {
    const userId = context.userId;
    const ref = typeof userId === 'string' ? parseReference(userId) : undefined;
    return ref?.type === userType ? [ref.id] : undefined;
  }
  let value: unknown = context;
  for (const part of token.split('.').slice(1)) {
    value = isRecord(value) ? value[part] : undefined;
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) return undefined;
  const strings: string[] = [];
  for (const item of list) {
    if (typeof item === 'string' && item !== '') strings.push(item);
    else if (typeof item === 'number' || typeof item === 'boolean') strings.push(String(item));
    else return undefined;
  }
  return strings;
}

/**
 * Template keys the request did not satisfy: absent, `null`, or an OperationOutcome (the service then fetches
 * them itself).
 */
export function missingPrefetchKeys(
  templates: readonly CdsPrefetchTemplate[] | Readonly<Record<string, string>> | undefined,
  prefetch: Readonly<Record<string, unknown>> | undefined,
): string[] {
  const keys = Array.isArray(templates)
    ? (templates as readonly CdsPrefetchTemplate[]).map((t) => t.key)
    : Object.keys(templates ?? {});
  return keys.filter((key) => {
    const value = prefetch && Object.hasOwn(prefetch, key) ? prefetch[key] : undefined;
    return !isRecord(value) || value.resourceType === 'OperationOutcome';
  });
}
