/**
 * Turns a FHIR search query string into a typed `SearchRequest`, rejecting unknown parameters, modifiers and
 * malformed values with 400 and the parameter named.
 */
import type { SearchParameter } from '@medplum/fhirtypes';
import { badRequest, HookbotError } from '../../infra/errors.js';
import { unstorableText } from '../../infra/storable.js';
import { searchParameter } from '../definitions.js';
import { isSupportedResourceType } from '../resource-types.js';
import { checkElements, parseSubset, type Subset } from '../subset.js';

const invalidSearch = (message: string, field?: string) => badRequest('fhir.invalid-search', message, field);

export type SearchQuery = URLSearchParams | Record<string, string | string[] | undefined>;

export interface Filter {
  code: string;
  param: SearchParameter;
  modifier?: string;
  /** Comma-separated alternatives (OR). Repeated parameters become separate filters (AND). Empty with `link`. */
  values: string[];
  /** A chained (`patient.identifier=`) or reverse-chained (`_has:…`) parameter: the condition is on `link.filter`. */
  link?: Link;
}

/**
 * `forward` (`code[:Type].rest`): this resource's reference parameter `code` points at a `type` resource matching
 * `filter`. `reverse` (`_has:type:code:rest`): a `type` resource whose reference parameter `code` (so the filter's
 * `code` and `param` are `type`'s) points at this resource matches `filter`.
 */
export interface Link {
  direction: 'forward' | 'reverse';
  type: string;
  filter: Filter;
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
  /** `:iterate`: applied again to what the previous round included (bounded, see execute.ts). */
  iterate: boolean;
}

export interface SearchRequest {
  resourceType: string;
  filters: Filter[];
  sort: SortRule[];
  count: number;
  offset: number;
  total: 'none' | 'estimate' | 'accurate';
  summaryCount: boolean;
  /** `_summary` (true, text, data) or `_elements`: the matches answered as a subset. */
  subset?: Subset;
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
  {
    name: '_summary',
    type: 'token',
    values: ['true', 'text', 'data', 'count', 'false'],
    documentation: 'The matches subsetted (SUBSETTED tag), or only their count',
  },
  { name: '_elements', type: 'string', documentation: 'Top-level elements to keep in the matches' },
  {
    name: '_include',
    type: 'special',
    documentation: 'Type:param[:Target] or Type:*; :iterate for at most 3 more rounds and 5,000 resources',
  },
  {
    name: '_revinclude',
    type: 'special',
    documentation: 'Type:param[:Target] or Type:*; :iterate for at most 3 more rounds and 5,000 resources',
  },
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
  const subset = parseSubset(new URLSearchParams(entries), true);
  checkElements(resourceType, subset);
  if (subset) request.subset = subset;
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
      // The other values (and `_elements`) are checked together once all are read (`parseSubset`).
      if (value === 'count') request.summaryCount = true;
      return;
    case '_elements':
      return;
    case '_sort':
      for (const part of value.split(',').filter(Boolean)) {
        const descending = part.startsWith('-');
        const code = descending ? part.slice(1) : part;
        request.sort.push({ code, descending, param: requireParam(type, code, '_sort') });
      }
      return;
    case '_include':
      request.include.push(parseInclude(value, key, (source) => source === type));
      return;
    case '_include:iterate':
    case '_revinclude':
    case '_revinclude:iterate':
      // An iterated _include may start from any type the previous round included.
      request[key.startsWith('_include') ? 'include' : 'revinclude'].push(parseInclude(value, key, () => true));
      return;
  }
  if (IGNORED.has(key)) {
    return;
  }
  request.filters.push(parseFilter(type, key, value, 0));
}

/**
 * Bound on the links of one parameter (`a.b.c.d=` has three, so has `_has:A:p:_has:B:q:_has:C:r:x=`): each is one
 * more nested subquery over the index.
 */
export const MAX_CHAIN_DEPTH = 3;

/** `key` on `type`; `whole` is the parameter as sent (`key` is its tail inside a chain), named in errors. */
function parseFilter(type: string, key: string, value: string, depth: number, whole?: string): Filter {
  if (key.startsWith('_has:')) {
    return parseReverseChain(type, key, value, depth, whole ?? key);
  }
  const dot = key.indexOf('.');
  if (dot >= 0) {
    return parseChain(type, key, dot, value, depth, whole ?? key);
  }
  const [code = '', modifier] = splitModifier(key);
  const param = requireParam(type, code, whole);
  const name = whole ?? key;
  let mod = modifier;
  if (mod !== undefined && param.type === 'reference' && isSupportedResourceType(mod)) {
    mod = `type:${mod}`;
  } else if (mod !== undefined && !(MODIFIERS[param.type ?? ''] ?? []).includes(mod)) {
    throw invalidSearch(`Unsupported modifier ":${mod}" on search parameter "${code}"`, name);
  }
  if ((mod === 'missing' || mod === 'present') && value !== 'true' && value !== 'false') {
    throw invalidSearch(`Search parameter "${name}" expects true or false`, name);
  }
  const values = splitValues(value);
  if (values.length > MAX_VALUES) {
    throw new HookbotError('fhir.search-too-costly', `Search parameter ${name} has more than ${MAX_VALUES} values`);
  }
  return { code, param, modifier: mod, values };
}

function checkDepth(key: string, depth: number): void {
  if (depth >= MAX_CHAIN_DEPTH) {
    throw new HookbotError(
      'fhir.search-too-costly',
      `Search parameter "${key}" chains more than ${MAX_CHAIN_DEPTH} links (chained and _has together)`,
      { expression: key },
    );
  }
}

/** `code[:Type].rest` on `type`: the reference parameter `code`, its target type, and `rest` on that type. */
function parseChain(type: string, key: string, dot: number, value: string, depth: number, whole: string): Filter {
  checkDepth(whole, depth);
  const [code = '', typeModifier] = splitModifier(key.slice(0, dot));
  const rest = key.slice(dot + 1);
  const param = requireParam(type, code, whole);
  if (param.type !== 'reference') {
    throw invalidSearch(`Cannot chain "${whole}": "${code}" is not a reference parameter of ${type}`, whole);
  }
  const targets = (param.target ?? []).filter(isSupportedResourceType);
  let target: string;
  if (typeModifier !== undefined) {
    if (!targets.includes(typeModifier as (typeof targets)[number])) {
      throw invalidSearch(
        `Cannot chain "${whole}": ${type}.${code} does not refer to "${typeModifier}" (it refers to ${list(targets)})`,
        whole,
      );
    }
    target = typeModifier;
  } else {
    // Only the targets that have the next parameter count: `subject.birthdate` can only mean a Patient.
    const next = restCode(rest);
    const candidates = targets.filter((t) => next === '_has' || searchParameter(t, next) !== undefined);
    if (candidates.length === 0) {
      throw invalidSearch(
        `Cannot chain "${whole}": no type ${type}.${code} refers to has the parameter "${next}"`,
        whole,
      );
    }
    if (candidates.length > 1) {
      throw invalidSearch(
        `Ambiguous chain "${whole}": ${type}.${code} may refer to ${list(candidates)}; name the type, e.g. "${code}:${candidates[0]}.${rest}"`,
        whole,
      );
    }
    target = candidates[0] as string;
  }
  const filter = parseFilter(target, rest, value, depth + 1, whole);
  return { code, param, modifier: `type:${target}`, values: [], link: { direction: 'forward', type: target, filter } };
}

/** `_has:Source:code:rest` on `type`: `Source` resources whose reference `code` points at `type` match `rest`. */
function parseReverseChain(type: string, key: string, value: string, depth: number, whole: string): Filter {
  checkDepth(whole, depth);
  const [, source = '', code = '', ...restParts] = key.split(':');
  const rest = restParts.join(':');
  if (!isSupportedResourceType(source) || rest === '') {
    throw invalidSearch(`Invalid "${whole}": expected _has:Type:reference:parameter with a supported type`, whole);
  }
  const param = searchParameter(source, code);
  if (param?.type !== 'reference') {
    throw invalidSearch(`Invalid "${whole}": "${code}" is not a reference parameter of ${source}`, whole);
  }
  if (param.target && !param.target.includes(type as (typeof param.target)[number])) {
    throw invalidSearch(`Invalid "${whole}": ${source}.${code} never refers to ${type}`, whole);
  }
  const filter = parseFilter(source, rest, value, depth + 1, whole);
  return { code, param, values: [], link: { direction: 'reverse', type: source, filter } };
}

/** The parameter code at the head of a chain's rest: `identifier` of `identifier:not`, `_has` of `_has:…`. */
function restCode(rest: string): string {
  return /^[^.:]*/.exec(rest)?.[0] ?? '';
}

function list(types: readonly string[]): string {
  return types.length === 0 ? 'no supported type' : types.join(', ');
}

/** Every type a search reads through its chains (`_has` included), for the caller's scopes. */
export function linkedTypes(filters: readonly Filter[]): string[] {
  const out = new Set<string>();
  const visit = (filter: Filter): void => {
    if (filter.link) {
      out.add(filter.link.type);
      visit(filter.link.filter);
    }
  };
  filters.forEach(visit);
  return [...out];
}

function splitModifier(key: string): [string, string | undefined] {
  const i = key.indexOf(':');
  return i < 0 ? [key, undefined] : [key.slice(0, i), key.slice(i + 1)];
}

function requireParam(type: string, code: string, where?: string): SearchParameter {
  const param = searchParameter(type, code);
  if (param?.type === 'composite') {
    // R4's composites on the stored types (Questionnaire context-type-value, context-type-quantity) pair values of
    // one useContext element; the index keeps each component's values apart, without the element they came from,
    // so a search could pair one element's type with another's value: a wrong match, not a slow one.
    throw invalidSearch(
      `Composite search parameter "${code}" is not supported: the search index does not record which ${type} element each component's value came from; search its components separately`,
      where ?? code,
    );
  }
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
  const iterate = key.endsWith(':iterate');
  if (code === '*') {
    return { sourceType, codes: ['*'], targetType, iterate };
  }
  const param = searchParameter(sourceType, code);
  if (param?.type !== 'reference') {
    throw invalidSearch(`Invalid ${key} "${value}": "${code}" is not a reference parameter of ${sourceType}`, key);
  }
  return { sourceType, codes: [code], targetType, iterate };
}
