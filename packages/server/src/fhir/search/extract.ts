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
  for (const { param, code, atom, path } of planFor(resource.resourceType)) {
    let values: unknown[];
    try {
      values = (path && memberValues(resource, path)) || evalFhirPath(atom, resource);
    } catch {
      continue;
    }
    for (const value of values) {
      for (const row of rowsFor(param, value)) {
        const full = { code, ...row };
        const key = JSON.stringify(full);
        if (!seen.has(key)) {
          seen.add(key);
          rows.push(full);
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
  /** For a plain member path (`AuditEvent.agent.name`): its elements after the type, walked without FHIRPath. */
  path?: string[];
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
      const path = memberPath(own);
      return { param, code: param.code ?? '', atom: parseFhirPath(own), ...(path ? { path } : {}) };
    });
    plans.set(resourceType, plan);
  }
  return plan;
}

/** `AuditEvent.agent.name` → `['agent', 'name']`; undefined for anything but plain member navigation. */
export function memberPath(expression: string): string[] | undefined {
  return /^[A-Z][A-Za-z]*(\.[a-z][A-Za-z0-9]*)+$/.test(expression) ? expression.split('.').slice(1) : undefined;
}

/**
 * The values of a plain member path, found by walking the JSON as FHIRPath's member navigation does (arrays
 * flattened, absent members skipped), which is what most parameters are and ~10x cheaper than evaluating FHIRPath.
 * Undefined where FHIRPath must decide: a choice type (`value` for `valueQuantity`) or a primitive's extension
 * (`_birthDate`) along the path. extract.test.ts checks the two agree on every parameter of the test resources.
 */
export function memberValues(resource: Resource, path: string[]): unknown[] | undefined {
  let nodes: unknown[] = [resource];
  for (const name of path) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (!isObject(node)) continue;
      const value = node[name];
      if (Array.isArray(value)) {
        for (const item of value) next.push(item);
      } else if (value !== undefined && value !== null) {
        next.push(value);
      } else if (`_${name}` in node || Object.keys(node).some((k) => isChoiceOf(k, name))) {
        return undefined;
      }
    }
    if (next.length === 0) return next;
    nodes = next;
  }
  return nodes;
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
