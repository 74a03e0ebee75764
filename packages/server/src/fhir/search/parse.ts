/**
 * Turns a FHIR search query string into a typed `SearchRequest`, rejecting unknown parameters, modifiers and
 * malformed values with 400 and the parameter named.
 */
import type { SearchParameter } from '@medplum/fhirtypes';
import { badRequest, HookbotError } from '../../infra/errors.js';
import { unstorableText } from '../../infra/storable.js';
import { searchParameter } from '../definitions.js';
import { isSupportedResourceType } from '../resource-types.js';

const invalidSearch = (message: string, field?: string) => badRequest('fhir.invalid-search', message, field);

export type SearchQuery = URLSearchParams | Record<string, string | string[] | undefined>;

export interface Filter {
  code: string;
  param: SearchParameter;
  modifier?: string;
  /** Comma-separated alternatives (OR). Repeated parameters become separate filters (AND). */
  values: string[];
}

export interface SortRule {
  code: string;
  param: SearchParameter;
  descending: boolean;
}

export interface IncludeRule {
  /** For `_include` the searched type, for `_revinclude` the type that holds the reference. */
  sourceType: string;
  /** Reference parameter codes; all reference parameters of `sourceType` for `*`. */
  codes: string[];
  targetType?: string;
}

export interface SearchRequest {
  resourceType: string;
  filters: Filter[];
  sort: SortRule[];
  count: number;
  offset: number;
  total: 'none' | 'estimate' | 'accurate';
  summaryCount: boolean;
  include: IncludeRule[];
  revinclude: IncludeRule[];
  /** The query as received, minus paging, to rebuild `self`/`next`/`previous` links. */
  entries: [string, string][];
}

const DEFAULT_COUNT = 20;
const MAX_COUNT = 1000;

const MODIFIERS: Record<string, string[]> = {
  string: ['exact', 'contains', 'missing', 'present'],
  token: ['not', 'text', 'missing', 'present'],
  reference: ['missing', 'present'],
  date: ['missing', 'present'],
  number: ['missing', 'present'],
  quantity: ['missing', 'present'],
  uri: ['missing', 'present'],
};

/**
 * The result parameters `applyEntry` takes, with the values it accepts where they are a closed list: the
 * CapabilityStatement lists exactly these (`capability/statement.ts`), and `parse.test.ts` holds both to each other.
 */
export const RESULT_PARAMETERS = [
  { name: '_count', type: 'number', documentation: 'Page size: default 20, at most 1000' },
  { name: '_offset', type: 'number', documentation: 'Index of the first match on the page (paging links use it)' },
  { name: '_sort', type: 'special', documentation: 'Search parameters, `-` for descending; default newest first' },
  { name: '_total', type: 'token', values: ['none', 'estimate', 'accurate'], documentation: 'estimate = accurate' },
  { name: '_summary', type: 'token', values: ['count', 'false'], documentation: 'Only count (and false)' },
  { name: '_include', type: 'special', documentation: 'Type:param[:Target] or Type:*; :iterate is one level' },
  { name: '_revinclude', type: 'special', documentation: 'Type:param[:Target] or Type:*; :iterate is one level' },
] as const satisfies readonly { name: string; type: string; values?: readonly string[]; documentation: string }[];

const accepts = (name: string, value: string) =>
  RESULT_PARAMETERS.some((p) => p.name === name && 'values' in p && (p.values as readonly string[]).includes(value));

/** Whether a defined search parameter can be searched with (composite and special ones cannot). */
export function isSearchable(param: SearchParameter): boolean {
  return param.type !== 'composite' && param.type !== 'special' && param.code !== '_compartment';
}

/** Accepted and ignored: they do not change what matches. */
const IGNORED = new Set(['_format', '_pretty']);

export function queryEntries(query: SearchQuery): [string, string][] {
  if (query instanceof URLSearchParams) {
    return [...query.entries()];
  }
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      out.push([key, v]);
    }
  }
  return out;
}

export function assertResourceType(resourceType: string): void {
  if (!isSupportedResourceType(resourceType)) {
    throw badRequest('fhir.unsupported-type', `Unsupported resource type "${resourceType}"`);
  }
}

/** Bounds that keep one search from becoming a huge SQL statement. */
const MAX_PARAMETERS = 100;
const MAX_VALUES = 1000;

export function parseSearchRequest(resourceType: string, query: SearchQuery): SearchRequest {
  assertResourceType(resourceType);
  const request: SearchRequest = {
    resourceType,
    filters: [],
    sort: [],
    count: DEFAULT_COUNT,
    offset: 0,
    total: 'none',
    summaryCount: false,
    include: [],
    revinclude: [],
    entries: [],
  };
  const entries = queryEntries(query);
  if (entries.length > MAX_PARAMETERS) {
    throw new HookbotError('fhir.search-too-costly', `A search may have at most ${MAX_PARAMETERS} parameters`);
  }
  for (const [key, value] of entries) {
    const why = unstorableText(key + value);
    if (why) {
      const name = key.replaceAll('\u0000', '%00');
      throw invalidSearch(`Search parameter "${name}" ${why}`, name);
    }
    if (key !== '_count' && key !== '_offset') {
      request.entries.push([key, value]);
    }
    applyEntry(request, key, value);
  }
  return request;
}

function applyEntry(request: SearchRequest, key: string, value: string): void {
  const type = request.resourceType;
  switch (key) {
    case '_count':
      request.count = Math.min(parseNonNegative(key, value), MAX_COUNT);
      return;
    case '_offset':
      request.offset = parseNonNegative(key, value);
      return;
    case '_total':
      if (!accepts('_total', value)) {
        throw invalidSearch(`Invalid _total "${value}": expected none, estimate or accurate`, '_total');
      }
      request.total = value as SearchRequest['total'];
      return;
    case '_summary':
      if (!accepts('_summary', value)) {
        throw invalidSearch(`Unsupported _summary "${value}"`, '_summary');
      }
      if (value === 'count') request.summaryCount = true;
      return;
    case '_sort':
      for (const part of value.split(',').filter(Boolean)) {
        const descending = part.startsWith('-');
        const code = descending ? part.slice(1) : part;
        request.sort.push({ code, descending, param: requireParam(type, code, '_sort') });
      }
      return;
    case '_include':
    case '_include:iterate':
      request.include.push(parseInclude(value, key, (source) => source === type));
      return;
    case '_revinclude':
    case '_revinclude:iterate':
      request.revinclude.push(parseInclude(value, key, () => true));
      return;
  }
  if (IGNORED.has(key)) {
    return;
  }
  const [code = '', modifier] = splitModifier(key);
  const param = requireParam(type, code);
  let mod = modifier;
  if (mod !== undefined && param.type === 'reference' && isSupportedResourceType(mod)) {
    mod = `type:${mod}`;
  } else if (mod !== undefined && !(MODIFIERS[param.type ?? ''] ?? []).includes(mod)) {
    throw invalidSearch(`Unsupported modifier ":${mod}" on search parameter "${code}"`, key);
  }
  if ((mod === 'missing' || mod === 'present') && value !== 'true' && value !== 'false') {
    throw invalidSearch(`Search parameter "${key}" expects true or false`, key);
  }
  const values = splitValues(value);
  if (values.length > MAX_VALUES) {
    throw new HookbotError('fhir.search-too-costly', `Search parameter ${key} has more than ${MAX_VALUES} values`);
  }
  request.filters.push({ code, param, modifier: mod, values });
}

function splitModifier(key: string): [string, string | undefined] {
  const i = key.indexOf(':');
  return i < 0 ? [key, undefined] : [key.slice(0, i), key.slice(i + 1)];
}

function requireParam(type: string, code: string, where?: string): SearchParameter {
  const param = searchParameter(type, code);
  if (!param || !isSearchable(param)) {
    throw invalidSearch(`Unknown search parameter "${code}" for ${type}`, where ?? code);
  }
  return param;
}

function parseNonNegative(key: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw invalidSearch(`Invalid ${key} "${value}": expected a non-negative integer`, key);
  }
  return n;
}

/** `a,b\,c` → ['a', 'b,c'] (FHIR R4 search §3.1.1.5 escaping). */
function splitValues(value: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) {
      current += value[++i];
    } else if (c === ',') {
      out.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  out.push(current);
  return out;
}

function parseInclude(value: string, key: string, sourceAllowed: (source: string) => boolean): IncludeRule {
  const [sourceType = '', code = '', targetType] = value.split(':');
  if (!isSupportedResourceType(sourceType) || !sourceAllowed(sourceType)) {
    throw invalidSearch(`Invalid ${key} "${value}": unsupported source type "${sourceType}"`, key);
  }
  if (targetType !== undefined && !isSupportedResourceType(targetType)) {
    throw invalidSearch(`Invalid ${key} "${value}": unsupported target type "${targetType}"`, key);
  }
  if (code === '*') {
    return { sourceType, codes: ['*'], targetType };
  }
  const param = searchParameter(sourceType, code);
  if (param?.type !== 'reference') {
    throw invalidSearch(`Invalid ${key} "${value}": "${code}" is not a reference parameter of ${sourceType}`, key);
  }
  return { sourceType, codes: [code], targetType };
}
