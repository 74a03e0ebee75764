/**
 * Builds the SQL of a search: every condition is a predicate over `fhir_resources r`, and every parameter other
 * than `_id`/`_lastUpdated` a subquery over `fhir_index i` rows of the same project, type and resource. A chained
 * or `_has` parameter is a subquery over the index's reference rows whose other end is itself a search (of
 * `fhir_resources l1`, `l2`…) with the same project and, for a member, the same compartment predicate.
 */
import { badRequest } from '../../infra/errors.js';
import { parseDateRange } from './dates.js';
import { escapeLike, normalizeString } from './normalize.js';
import type { Filter, Link, SearchRequest, SortRule } from './parse.js';
import { parseReference } from './references.js';
import { ID_PATTERN } from '../resource-types.js';

export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export interface WhereClause {
  sql: string;
  params: Params;
}

/**
 * ` AND <predicate>` confining rows of `alias` (of one of `types`) to what the caller may see, adding its values
 * to `params` (whose `$1` is the project); '' for a caller seeing the whole project. `store/context.ts` `confineSql`.
 */
export type Confine = (types: readonly string[], params: unknown[], alias: string) => string;

/** The rows a condition is about: `alias` over `fhir_resources`, `type` the placeholder of their resource type. */
interface Scope {
  alias: string;
  type: string;
  depth: number;
}

/**
 * `confine` applies to the rows every chained and `_has` link reads (the searched rows themselves are the
 * caller's to confine), so a member cannot learn through a chain what it could not search for directly.
 */
export function buildWhere(projectId: string, request: SearchRequest, confine?: Confine): WhereClause {
  const params = new Params();
  const parts = [
    `r.project_id = ${params.add(projectId)}`,
    `r.resource_type = ${params.add(request.resourceType)}`,
    'NOT r.deleted',
  ];
  const scope: Scope = { alias: 'r', type: '$2', depth: 0 };
  for (const filter of request.filters) {
    parts.push(filterSql(filter, scope, params, confine));
  }
  return { sql: parts.join(' AND '), params };
}

/**
 * Positive conditions are an uncorrelated `r.id IN (...)` over the index, which the planner can drive from the
 * value indexes even before statistics exist; negative ones (`:not`, `:missing`) a correlated NOT EXISTS.
 */
function indexMatch(scope: Scope, code: string, params: Params, condition?: string): string {
  const where = `i.project_id = $1 AND i.resource_type = ${scope.type} AND i.code = ${params.add(code)}`;
  const cond = condition ? ` AND (${condition})` : '';
  return `${scope.alias}.id IN (SELECT i.resource_id FROM fhir_index i WHERE ${where}${cond})`;
}

function indexAbsent(scope: Scope, code: string, params: Params, condition?: string): string {
  const a = scope.alias;
  const where = `i.project_id = ${a}.project_id AND i.resource_type = ${a}.resource_type AND i.resource_id = ${a}.id AND i.code = ${params.add(code)}`;
  return `NOT EXISTS (SELECT 1 FROM fhir_index i WHERE ${where}${condition ? ` AND (${condition})` : ''})`;
}

function filterSql(filter: Filter, scope: Scope, params: Params, confine?: Confine): string {
  const { code, modifier, link } = filter;
  const a = scope.alias;
  if (link) {
    return linkSql(filter.code, link, scope, params, confine);
  }
  if (modifier === 'missing' || modifier === 'present') {
    const missing = (filter.values[0] === 'true') === (modifier === 'missing');
    if (code === '_id' || code === '_lastUpdated') {
      return missing ? 'false' : 'true';
    }
    return missing ? indexAbsent(scope, code, params) : indexMatch(scope, code, params);
  }
  if (code === '_id') {
    const sql = `${a}.id = ANY(${params.add(filter.values)}::text[])`;
    return modifier === 'not' ? `NOT (${sql})` : sql;
  }
  if (code === '_lastUpdated') {
    const high = `(${a}.last_updated + interval '1 millisecond')`;
    return or(filter.values.map((v) => dateCondition(code, v, params, `${a}.last_updated`, high)));
  }
  const conditions = filter.values.map((v) => valueCondition(filter, v, params));
  if (modifier === 'not') {
    return indexAbsent(scope, code, params, or(conditions));
  }
  return indexMatch(scope, code, params, or(conditions));
}

/**
 * A chained (`forward`) or `_has` (`reverse`) parameter: the reference rows of `code` between the scope's rows and
 * `link.type` resources of the same project that match `link.filter`, and are not deleted (a deleted resource has
 * no index rows, but its current row says so first) and visible to the caller (`confine`). Both directions drive
 * from the inner search's ids into an index: `fhir_index_ref_idx` (by `ref_id`) forward, `fhir_index_resource_idx`
 * (by `resource_id`) reverse.
 */
function linkSql(code: string, link: Link, scope: Scope, params: Params, confine?: Confine): string {
  const depth = scope.depth + 1;
  const alias = `l${depth}`;
  const linkedType = params.add(link.type);
  const inner: Scope = { alias, type: linkedType, depth };
  const condition = filterSql(link.filter, inner, params, confine);
  const visible = confine?.([link.type], params.values, alias) ?? '';
  const linked = `SELECT ${alias}.id FROM fhir_resources ${alias} WHERE ${alias}.project_id = $1 AND ${alias}.resource_type = ${linkedType} AND NOT ${alias}.deleted AND ${condition}${visible}`;
  const codeSql = params.add(code);
  if (link.direction === 'forward') {
    return `${scope.alias}.id IN (SELECT i.resource_id FROM fhir_index i WHERE i.project_id = $1 AND i.resource_type = ${scope.type} AND i.code = ${codeSql} AND i.ref_type = ${linkedType} AND i.ref_id IN (${linked}))`;
  }
  return `${scope.alias}.id IN (SELECT i.ref_id FROM fhir_index i WHERE i.project_id = $1 AND i.resource_type = ${linkedType} AND i.code = ${codeSql} AND i.ref_type = ${scope.type} AND i.resource_id IN (${linked}))`;
}

function or(conditions: string[]): string {
  return conditions.length === 1 ? (conditions[0] ?? 'false') : `(${conditions.join(' OR ')})`;
}

function valueCondition(filter: Filter, value: string, params: Params): string {
  const { code, modifier, param } = filter;
  switch (param.type) {
    case 'string':
      if (modifier === 'exact') {
        return `i.value = ${params.add(value)}`;
      }
      return modifier === 'contains'
        ? `i.norm LIKE ${params.add(`%${escapeLike(normalizeString(value))}%`)}`
        : `i.norm LIKE ${params.add(`${escapeLike(normalizeString(value))}%`)}`;
    case 'token':
      return modifier === 'text'
        ? `i.norm LIKE ${params.add(`${escapeLike(normalizeString(value))}%`)}`
        : tokenCondition(value, params);
    case 'uri':
      return `i.value = ${params.add(value)}`;
    case 'reference':
      return referenceCondition(value, params, modifier?.startsWith('type:') ? modifier.slice(5) : undefined, filter);
    case 'date':
      // Date rows always set low (see extract.ts); saying so lets the planner use the partial date index.
      return `(i.low IS NOT NULL AND ${dateCondition(code, value, params, 'i.low', 'i.high')})`;
    case 'number':
      return numberCondition(code, value, params);
    case 'quantity':
      return quantityCondition(code, value, params);
    default:
      throw badRequest('fhir.invalid-search', `Unsupported search parameter "${code}"`, code);
  }
}

function tokenCondition(value: string, params: Params): string {
  const bar = value.indexOf('|');
  if (bar < 0) {
    return `i.value = ${params.add(value)}`;
  }
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  const systemSql = system === '' ? 'i.system IS NULL' : `i.system = ${params.add(system)}`;
  return code === '' ? systemSql : `${systemSql} AND i.value = ${params.add(code)}`;
}

function referenceCondition(value: string, params: Params, typeModifier: string | undefined, filter: Filter): string {
  const parsed = parseReference(value);
  if (parsed && (!typeModifier || typeModifier === parsed.type)) {
    return `i.ref_type = ${params.add(parsed.type)} AND i.ref_id = ${params.add(parsed.id)}`;
  }
  if (ID_PATTERN.test(value)) {
    const targets = filter.param.target ?? [];
    const type = typeModifier ?? (targets.length === 1 ? targets[0] : undefined);
    const idSql = `i.ref_id = ${params.add(value)}`;
    return type ? `i.ref_type = ${params.add(type)} AND ${idSql}` : idSql;
  }
  return `i.value = ${params.add(value)}`;
}

const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
type Prefix = (typeof PREFIXES)[number];

function splitPrefix(value: string): [Prefix, string] {
  const head = value.slice(0, 2) as Prefix;
  return PREFIXES.includes(head) && /^[a-z]{2}[-+\d.]/.test(value) ? [head, value.slice(2)] : ['eq', value];
}

function dateCondition(code: string, value: string, params: Params, low: string, high: string): string {
  const [prefix, text] = splitPrefix(value);
  const range = parseDateRange(text);
  if (!range) {
    throw badRequest('fhir.invalid-search', `Invalid date "${value}" for search parameter "${code}"`, code);
  }
  // Added on use: PostgreSQL cannot type a parameter the statement never mentions.
  const pLow = () => `${params.add(range.low.toISOString())}::timestamptz`;
  const pHigh = () => `${params.add(range.high.toISOString())}::timestamptz`;
  switch (prefix) {
    case 'eq':
      return `(${low} >= ${pLow()} AND ${high} <= ${pHigh()})`;
    case 'ne':
      return `NOT (${low} >= ${pLow()} AND ${high} <= ${pHigh()})`;
    case 'gt':
      return `${high} > ${pHigh()}`;
    case 'lt':
      return `${low} < ${pLow()}`;
    case 'ge':
      return `${high} > ${pLow()}`;
    case 'le':
      return `${low} < ${pHigh()}`;
    case 'sa':
      return `${low} >= ${pHigh()}`;
    case 'eb':
      return `${high} <= ${pLow()}`;
    case 'ap': {
      // Approximately: within 10% of the distance between the value and now, at least a day either side.
      const margin = Math.max(Math.abs(Date.now() - range.low.getTime()) * 0.1, 86_400_000);
      const aLow = `${params.add(new Date(range.low.getTime() - margin).toISOString())}::timestamptz`;
      const aHigh = `${params.add(new Date(range.high.getTime() + margin).toISOString())}::timestamptz`;
      return `(${low} < ${aHigh} AND ${high} > ${aLow})`;
    }
  }
}

const NUMBER_RE = /^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$/;

function numericCondition(code: string, value: string, params: Params, column: string): string {
  const [prefix, text] = splitPrefix(value);
  if (!NUMBER_RE.test(text)) {
    throw badRequest('fhir.invalid-search', `Invalid number "${value}" for search parameter "${code}"`, code);
  }
  const n = Number(text);
  // The precision of the value sets the range that "equals" it: 100 means [99.5, 100.5) (FHIR R4 §3.1.1.4.1).
  const decimals = /\.(\d+)/.exec(text.replace(/[eE].*$/, ''))?.[1]?.length ?? 0;
  const half = 0.5 * 10 ** -decimals;
  const v = () => `${params.add(text)}::numeric`;
  const lo = () => `${params.add(String(n - half))}::numeric`;
  const hi = () => `${params.add(String(n + half))}::numeric`;
  switch (prefix) {
    case 'eq':
      return `(${column} >= ${lo()} AND ${column} < ${hi()})`;
    case 'ne':
      return `NOT (${column} >= ${lo()} AND ${column} < ${hi()})`;
    case 'gt':
    case 'sa':
      return `${column} > ${v()}`;
    case 'lt':
    case 'eb':
      return `${column} < ${v()}`;
    case 'ge':
      return `${column} >= ${v()}`;
    case 'le':
      return `${column} <= ${v()}`;
    case 'ap': {
      const margin = Math.abs(n) * 0.1;
      return `(${column} >= ${params.add(String(n - margin))}::numeric AND ${column} <= ${params.add(String(n + margin))}::numeric)`;
    }
  }
}

function numberCondition(code: string, value: string, params: Params): string {
  return numericCondition(code, value, params, 'i.num');
}

/** `[prefix]number[|system|code]` (FHIR R4 search §3.1.1.4.8 "quantity"). */
function quantityCondition(code: string, value: string, params: Params): string {
  const [number = '', system, unit] = value.split('|');
  const parts = [numericCondition(code, number, params, 'i.num')];
  if (system) {
    parts.push(`i.system = ${params.add(system)}`);
  }
  if (unit) {
    parts.push(`i.value = ${params.add(unit)}`);
  }
  return parts.join(' AND ');
}

export function buildOrderBy(sort: SortRule[], params: Params): string {
  const parts: string[] = [];
  for (const rule of sort) {
    const dir = rule.descending ? 'DESC' : 'ASC';
    if (rule.code === '_id') {
      parts.push(`r.id ${dir}`);
    } else if (rule.code === '_lastUpdated') {
      parts.push(`r.last_updated ${dir}`);
    } else {
      const column = sortColumn(rule.param.type);
      const agg = rule.descending ? 'max' : 'min';
      parts.push(
        `(SELECT ${agg}(${column}) FROM fhir_index i WHERE i.project_id = r.project_id AND i.resource_type = r.resource_type AND i.resource_id = r.id AND i.code = ${params.add(rule.code)}) ${dir} NULLS LAST`,
      );
    }
  }
  if (parts.length === 0) {
    parts.push('r.last_updated DESC');
  }
  parts.push('r.id ASC');
  return parts.join(', ');
}

function sortColumn(type: string | undefined): string {
  switch (type) {
    case 'string':
      return 'i.norm';
    case 'date':
      return 'i.low';
    case 'number':
    case 'quantity':
      return 'i.num';
    case 'reference':
      return 'i.value';
    default:
      return 'i.value';
  }
}
