/**
 * Extracts the search values of a resource into index rows: one row per value, evaluated with FHIRPath over the
 * base search parameter expressions. Rows are what `fhir_index` stores (see ../README.md).
 */
import { evalFhirPath, getExpressionForResourceType, parseFhirPath, type FhirPathAtom } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { indexedSearchParameters } from '../definitions.js';
import { parseDateRange } from './dates.js';
import { normalizeString } from './normalize.js';
import { parseReference } from './references.js';

export interface IndexRow {
  code: string;
  system?: string | null;
  value?: string | null;
  norm?: string | null;
  low?: string | null;
  high?: string | null;
  num?: string | null;
  ref_type?: string | null;
  ref_id?: string | null;
}

type Json = Record<string, unknown>;

export function extractIndexRows(resource: Resource): IndexRow[] {
  const rows: IndexRow[] = [];
  const seen = new Set<string>();
  for (const { param, code, atom, fast } of planFor(resource.resourceType)) {
    let values: unknown[];
    try {
      values = (fast && fastValues(resource, fast)) || evalFhirPath(atom, resource);
    } catch {
      continue;
    }
    for (const value of values) {
      for (const row of rowsFor(param, value)) {
        const key = JSON.stringify([code, row.system, row.value, row.norm, row.low, row.high, row.num, row.ref_id]);
        if (!seen.has(key)) {
          seen.add(key);
          rows.push({ code, ...row });
        }
      }
    }
  }
  return rows;
}

interface Planned {
  param: SearchParameter;
  code: string;
  atom: FhirPathAtom;
  fast?: FastPath;
}

const plans = new Map<string, Planned[]>();

/**
 * The indexed parameters of a resource type, each expression parsed once. Shared parameters (`patient`, `date`,
 * `identifier`) union one branch per resource type; only the branch for this type is kept.
 */
function planFor(resourceType: string): Planned[] {
  let plan = plans.get(resourceType);
  if (!plan) {
    plan = indexedSearchParameters(resourceType).map((param) => {
      const own = getExpressionForResourceType(resourceType, param.expression ?? '') ?? param.expression ?? '';
      const fast = fastPath(own);
      return { param, code: param.code ?? '', atom: parseFhirPath(own), ...(fast ? { fast } : {}) };
    });
    plans.set(resourceType, plan);
  }
  return plan;
}

/** One branch of a fast path: member names after the type, and the type its references must name, if any. */
interface FastBranch {
  path: string[];
  resolvesTo?: string;
}
export type FastPath = FastBranch[];

const BRANCH = /^[A-Z][A-Za-z]*((?:\.[a-z][A-Za-z0-9]*)+)(?:\.where\(\(?resolve\(\) is ([A-Z][A-Za-z]*)\)?\))?$/;

/**
 * The expressions that most parameters are, walked without FHIRPath: plain member navigation
 * (`AuditEvent.agent.name`), optionally narrowed to references of one type (`….where(resolve() is Patient)`), and
 * unions of those (`A | B`). Undefined for anything else.
 */
export function fastPath(expression: string): FastPath | undefined {
  const branches: FastBranch[] = [];
  for (const part of expression.split(' | ')) {
    const match = BRANCH.exec(part.trim());
    if (!match) return undefined;
    const [, members = '', type] = match;
    branches.push({ path: members.slice(1).split('.'), ...(type ? { resolvesTo: type } : {}) });
  }
  return branches;
}

/**
 * The values of a fast path, ~10x cheaper than evaluating FHIRPath; undefined where FHIRPath must decide (see
 * memberValues and referencedType). A union may repeat a value FHIRPath would list once; the rows are deduplicated.
 * extract.test.ts checks the two agree on every parameter of the test resources.
 */
export function fastValues(resource: Resource, fast: FastPath): unknown[] | undefined {
  if (fast.length === 1 && !fast[0]?.resolvesTo) return memberValues(resource, fast[0]?.path ?? []);
  const values: unknown[] = [];
  for (const { path, resolvesTo } of fast) {
    const found = memberValues(resource, path);
    if (found === undefined) return undefined;
    for (const value of found) {
      if (resolvesTo === undefined) {
        values.push(value);
        continue;
      }
      const type = referencedType(value);
      if (type === undefined) return undefined;
      if (type === resolvesTo) values.push(value);
    }
  }
  return values;
}

/**
 * The type FHIRPath's `resolve()` gives a reference without fetching it, as @medplum/core evaluates it: the text
 * before the first `?`, else before the first `/`, of `reference` (or of a string), or `type` for a logical reference
 * (`type` and `identifier`); null when it resolves to nothing. Undefined where FHIRPath must decide (an inline
 * `resource`, a reference that is not a string).
 */
function referencedType(value: unknown): string | null | undefined {
  let reference: string;
  if (typeof value === 'string') {
    reference = value;
  } else if (isObject(value)) {
    if ('resource' in value || (value.reference !== undefined && typeof value.reference !== 'string')) return undefined;
    if (value.reference) reference = value.reference as string;
    else if (value.type && value.identifier) {
      if (typeof value.type !== 'string') return undefined;
      reference = `${value.type}?`;
    } else return null;
  } else {
    return null;
  }
  const query = reference.indexOf('?');
  if (query >= 0) return reference.slice(0, query);
  const slash = reference.indexOf('/');
  return slash >= 0 ? reference.slice(0, slash) : null;
}

/**
 * The values of a plain member path, found by walking the JSON as FHIRPath's member navigation does (arrays
 * flattened, absent members skipped). Undefined where FHIRPath must decide: a choice type (`value` for
 * `valueQuantity`) or a primitive's extension (`_birthDate`) along the path.
 */
function memberValues(resource: Resource, path: string[]): unknown[] | undefined {
  const found: unknown[] = [];
  return collectMembers(resource, path, 0, found) ? found : undefined;
}

/** Depth first, which lists the values in the order FHIRPath's level-by-level navigation does; false to defer. */
function collectMembers(node: unknown, path: string[], step: number, found: unknown[]): boolean {
  if (!isObject(node)) return true;
  const name = path[step] as string;
  const value = node[name];
  if (value === undefined || value === null) return !(`_${name}` in node || hasChoiceOf(node, name));
  const last = step === path.length - 1;
  if (!Array.isArray(value)) {
    if (!last) return collectMembers(value, path, step + 1, found);
    found.push(value);
    return true;
  }
  for (const item of value) {
    if (last) found.push(item);
    else if (!collectMembers(item, path, step + 1, found)) return false;
  }
  return true;
}

function hasChoiceOf(node: Json, name: string): boolean {
  for (const key in node) if (isChoiceOf(key, name)) return true;
  return false;
}

function isChoiceOf(key: string, name: string): boolean {
  const rest = key.charCodeAt(name.length);
  return key.length > name.length && key.startsWith(name) && rest >= 65 && rest <= 90;
}

function rowsFor(param: SearchParameter, value: unknown): Omit<IndexRow, 'code'>[] {
  switch (param.type) {
    case 'token':
      return tokenRows(value);
    case 'string':
      return stringLeaves(value).map((s) => ({ value: s, norm: normalizeString(s) }));
    case 'uri':
      return typeof value === 'string' ? [{ value }] : [];
    case 'date':
      return dateRows(value);
    case 'number':
      return typeof value === 'number' ? [{ num: String(value) }] : [];
    case 'quantity':
      return quantityRows(value);
    case 'reference':
      return referenceRows(value);
    default:
      return [];
  }
}

function tokenRows(value: unknown): Omit<IndexRow, 'code'>[] {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return [{ value: String(value) }];
  }
  if (!isObject(value)) {
    return [];
  }
  if (Array.isArray(value.coding) || typeof value.text === 'string') {
    const text = typeof value.text === 'string' ? normalizeString(value.text) : null;
    const codings = Array.isArray(value.coding) ? value.coding.filter(isObject) : [];
    const rows = codings.map((c) => ({
      system: str(c.system),
      value: str(c.code),
      norm: text ?? (typeof c.display === 'string' ? normalizeString(c.display) : null),
    }));
    return rows.length > 0 ? rows : [{ norm: text }];
  }
  if ('code' in value) {
    // Coding, Quantity
    return [{ system: str(value.system), value: str(value.code), norm: textOf(value.display) }];
  }
  if ('value' in value) {
    // Identifier, ContactPoint
    return [{ system: str(value.system), value: str(value.value), norm: textOf(value.type) }];
  }
  return [];
}

function textOf(v: unknown): string | null {
  if (typeof v === 'string') {
    return normalizeString(v);
  }
  return isObject(v) && typeof v.text === 'string' ? normalizeString(v.text) : null;
}

const SKIPPED_STRING_KEYS = new Set(['use', 'type', 'period', 'extension', 'id', 'system']);

function stringLeaves(value: unknown): string[] {
  if (typeof value === 'string') {
    return [value];
  }
  if (Array.isArray(value)) {
    return value.flatMap(stringLeaves);
  }
  if (isObject(value)) {
    return Object.entries(value)
      .filter(([k]) => !SKIPPED_STRING_KEYS.has(k))
      .flatMap(([, v]) => stringLeaves(v));
  }
  return [];
}

function dateRows(value: unknown): Omit<IndexRow, 'code'>[] {
  if (typeof value === 'string') {
    const range = parseDateRange(value);
    return range ? [{ low: range.low.toISOString(), high: range.high.toISOString() }] : [];
  }
  if (!isObject(value)) {
    return [];
  }
  if ('start' in value || 'end' in value) {
    const start = typeof value.start === 'string' ? parseDateRange(value.start) : undefined;
    const end = typeof value.end === 'string' ? parseDateRange(value.end) : undefined;
    return [{ low: start ? start.low.toISOString() : '-infinity', high: end ? end.high.toISOString() : 'infinity' }];
  }
  if (Array.isArray(value.event)) {
    // Timing
    return value.event.flatMap(dateRows);
  }
  return [];
}

function quantityRows(value: unknown): Omit<IndexRow, 'code'>[] {
  if (!isObject(value) || typeof value.value !== 'number') {
    return [];
  }
  return [{ num: String(value.value), system: str(value.system), value: str(value.code) ?? str(value.unit) }];
}

function referenceRows(value: unknown): Omit<IndexRow, 'code'>[] {
  const reference = typeof value === 'string' ? value : isObject(value) ? str(value.reference) : null;
  if (!reference) {
    return [];
  }
  const parsed = parseReference(reference);
  return [{ value: reference, ref_type: parsed?.type ?? null, ref_id: parsed?.id ?? null }];
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
