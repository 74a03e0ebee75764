/**
 * `_summary` (`true`, `text`, `data`) and `_elements` (FHIR R4 search §3.1.1.5.8–9) on read, vread, search and
 * history: the resource with only some of its top-level elements, marked with the `SUBSETTED` tag so that a client
 * never takes it for the whole resource (nor writes it back as such). `_summary=count` is search's own (no
 * resources at all). Elements are chosen from the R4 StructureDefinitions: `summaryProperties` (isSummary) for
 * `true`, mandatory (min ≥ 1) ones always; nested elements are kept whole, the subset is of the top level only.
 */
import { getDataType, tryGetDataType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../infra/errors.js';
import { ensureDefinitions } from './definitions.js';

export interface Subset {
  summary?: 'true' | 'text' | 'data';
  /** Top-level element names (`name`, or `Patient.name` for that type only). */
  elements?: string[];
}

/** http://hl7.org/fhir/R4/valueset-common-tags.html */
export const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

/** Kept in every subset: what identifies the resource and its version. */
const ALWAYS = new Set(['resourceType', 'id', 'meta']);

/**
 * The subset a query asks for, or undefined for the whole resource. `_summary=count` is left to search (`allowCount`);
 * anywhere else, and any unknown value, is a 400. `_summary` and `_elements` together are a 400: which would win?
 */
export function parseSubset(query: URLSearchParams, allowCount = false): Subset | undefined {
  const summaries = query.getAll('_summary');
  const elements = query.getAll('_elements');
  if (summaries.length > 1 || elements.length > 1) {
    throw badRequest('fhir.invalid-search', '_summary and _elements may each be given once', '_summary');
  }
  const [summary] = summaries;
  const [list] = elements;
  if (summary !== undefined && list !== undefined && summary !== 'false') {
    throw badRequest('fhir.invalid-search', '_summary and _elements cannot be combined', '_elements');
  }
  if (summary === 'count' && allowCount) return undefined;
  if (summary !== undefined && !['true', 'text', 'data', 'false'].includes(summary)) {
    throw badRequest(
      'fhir.invalid-search',
      `Unsupported _summary "${summary}": expected true, text, data, false${allowCount ? ' or count' : ''}`,
      '_summary',
    );
  }
  if (list !== undefined) {
    const names = list
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    if (names.length === 0 || names.some((n) => !/^([A-Z][A-Za-z]*\.)?[a-z][A-Za-z0-9]*$/.test(n))) {
      throw badRequest('fhir.invalid-search', `Invalid _elements "${list}": expected element names`, '_elements');
    }
    return { elements: names };
  }
  return summary === undefined || summary === 'false' ? undefined : { summary: summary as Subset['summary'] };
}

/** 400 for an `_elements` name that `resourceType` does not have (a typo would otherwise answer almost nothing). */
export function checkElements(resourceType: string, subset: Subset | undefined): void {
  ensureDefinitions();
  const elements = tryGetDataType(resourceType)?.elements ?? {};
  for (const name of subset?.elements ?? []) {
    const [type, element = ''] = name.includes('.') ? name.split('.') : [resourceType, name];
    if (type !== resourceType) continue;
    if (!(element in elements) && !(`${element}[x]` in elements) && !ALWAYS.has(element)) {
      throw badRequest('fhir.invalid-search', `${resourceType} has no element "${element}"`, '_elements');
    }
  }
}

/** `deceasedBoolean` → `deceased` (a choice element's base name); `_birthDate` → `birthDate`. */
function baseName(key: string, elements: Record<string, unknown>): string {
  const name = key.startsWith('_') ? key.slice(1) : key;
  if (name in elements) return name;
  for (let end = name.length - 1; end > 0; end--) {
    if (`${name.slice(0, end)}[x]` in elements) return name.slice(0, end);
  }
  return name;
}

/** `resource` with only the elements `subset` keeps, tagged SUBSETTED; the resource itself when there is no subset. */
export function subsetResource<T extends Resource>(resource: T, subset: Subset | undefined): T {
  if (!subset) return resource;
  ensureDefinitions();
  const schema = getDataType(resource.resourceType);
  const keep = keptElements(resource.resourceType, subset, schema.summaryProperties, schema.mandatoryProperties);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    if (keep(baseName(key, schema.elements))) out[key] = value;
  }
  const tags = (resource.meta?.tag ?? []).filter((t) => t.code !== SUBSETTED.code || t.system !== SUBSETTED.system);
  out.meta = { ...resource.meta, tag: [...tags, SUBSETTED] };
  return out as T;
}

function keptElements(
  resourceType: string,
  subset: Subset,
  summary: ReadonlySet<string> = new Set(),
  mandatory: ReadonlySet<string> = new Set(),
): (name: string) => boolean {
  if (subset.summary === 'data') return (name) => name !== 'text';
  if (subset.summary === 'text') return (name) => ALWAYS.has(name) || name === 'text' || mandatory.has(name);
  if (subset.summary === 'true') return (name) => ALWAYS.has(name) || summary.has(name) || mandatory.has(name);
  const named = new Set(
    (subset.elements ?? []).flatMap((n) => {
      const [type, element] = n.includes('.') ? n.split('.') : [resourceType, n];
      return type === resourceType && element ? [element] : [];
    }),
  );
  return (name) => ALWAYS.has(name) || named.has(name) || mandatory.has(name);
}
