/**
 * Runs a parsed search: the page of matches, the optional total, `_include`/`_revinclude`, and the searchset
 * Bundle with paging links. Every statement is confined to the caller's project.
 */
import type { Bundle, BundleEntry, BundleLink, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { allSearchParameters, searchParameter } from '../definitions.js';
import { RESOURCE_TYPES } from '../resource-types.js';
import { subsetResource } from '../subset.js';
import { authorize, confineSql, type StoreContext } from '../store/context.js';
import { linkedTypes, parseSearchRequest, type IncludeRule, type SearchQuery, type SearchRequest } from './parse.js';
import { buildOrderBy, buildWhere, Params } from './sql.js';

export async function searchResources(ctx: StoreContext, resourceType: string, query: SearchQuery): Promise<Bundle> {
  authorize(ctx, resourceType, 's');
  const request = parseSearchRequest(resourceType, query);
  // A chain through a type the caller may not search is refused (403) rather than answered as no match: the
  // refusal names only the caller's own scopes, where an empty answer would pass for "nothing there".
  for (const type of linkedTypes(request.filters)) {
    authorize(ctx, type, 's');
  }
  const where = buildWhere(ctx.access.projectId, request, (types, values, alias) =>
    confineSql(ctx, types, values, alias),
  );
  // A member's search is confined in SQL, so the total and the pages count only what the member may see.
  where.sql += confineSql(ctx, [resourceType], where.params.values);
  const wantTotal = request.total !== 'none' || request.summaryCount || request.count === 0;
  const total = wantTotal ? await countMatches(ctx, where.sql, where.params.values) : undefined;
  if (request.summaryCount || request.count === 0) {
    return { resourceType: 'Bundle', type: 'searchset', total, link: [link('self', ctx, request, 0)] };
  }
  const orderBy = buildOrderBy(request.sort, where.params);
  const limit = where.params.add(request.count + 1);
  const offset = where.params.add(request.offset);
  const { rows } = await ctx.db.query<{ content: Resource }>(
    `SELECT r.content FROM fhir_resources r WHERE ${where.sql} ORDER BY ${orderBy} LIMIT ${limit} OFFSET ${offset}`,
    where.params.values,
  );
  const hasNext = rows.length > request.count;
  const matches = rows.slice(0, request.count).map((r) => r.content);
  const included = await includes(ctx, request, matches);
  const entry: BundleEntry[] = [
    // A subset applies to the matches; included resources are answered whole (the elements named are the matches').
    ...matches.map((resource) => toEntry(ctx, subsetResource(resource, request.subset), 'match')),
    ...included.resources.map((resource) => toEntry(ctx, resource, 'include')),
  ];
  if (included.truncated) {
    entry.push({ resource: truncatedOutcome(), search: { mode: 'outcome' } });
  }
  const links: BundleLink[] = [link('self', ctx, request, request.offset)];
  if (hasNext) {
    links.push(link('next', ctx, request, request.offset + request.count));
  }
  if (request.offset > 0) {
    links.push(link('previous', ctx, request, Math.max(0, request.offset - request.count)));
  }
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(total === undefined ? {} : { total }),
    link: links,
    entry,
  };
}

async function countMatches(ctx: StoreContext, where: string, params: unknown[]): Promise<number> {
  const { rows } = await ctx.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM fhir_resources r WHERE ${where}`,
    params,
  );
  return Number(rows[0]?.n ?? 0);
}

function toEntry(ctx: StoreContext, resource: Resource, mode: 'match' | 'include'): BundleEntry {
  return { fullUrl: `${ctx.fhirBase}/${resource.resourceType}/${resource.id}`, resource, search: { mode } };
}

function truncatedOutcome(): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'warning',
        code: 'incomplete',
        diagnostics: `Included resources stop at ${MAX_INCLUDED} and at ${MAX_INCLUDE_ITERATIONS} rounds of :iterate after the first; ask for fewer matches per page (_count) or fewer includes`,
      },
    ],
  };
}

function link(relation: string, ctx: StoreContext, request: SearchRequest, offset: number): BundleLink {
  const query = new URLSearchParams(request.entries);
  query.set('_count', String(request.count));
  if (offset > 0) {
    query.set('_offset', String(offset));
  }
  return { relation, url: `${ctx.fhirBase}/${request.resourceType}?${query.toString()}` };
}

function referenceCodes(rule: IncludeRule): string[] {
  if (!rule.codes.includes('*')) {
    return rule.codes;
  }
  return allSearchParameters(rule.sourceType)
    .filter((p) => p.type === 'reference' && p.code)
    .map((p) => p.code as string);
}

/** Bounds on `_include`/`_revinclude`: rounds of `:iterate` after the first, and resources included in all. */
export const MAX_INCLUDE_ITERATIONS = 3;
export const MAX_INCLUDED = 5000;

interface Included {
  resources: Resource[];
  /** A bound was reached: the Bundle says so in an OperationOutcome entry. */
  truncated: boolean;
}

/**
 * The first round applies every rule to the page's matches; each further round (at most `MAX_INCLUDE_ITERATIONS`)
 * applies the `:iterate` rules to what the round before added, until nothing new comes in. At most `MAX_INCLUDED`
 * resources in all. `_include` targets need read access, `_revinclude` sources search access; others are left out
 * silently, and so are, for a member, resources outside their compartment.
 */
async function includes(ctx: StoreContext, request: SearchRequest, matches: Resource[]): Promise<Included> {
  const result: Included = { resources: [], truncated: false };
  if (matches.length === 0 || (request.include.length === 0 && request.revinclude.length === 0)) {
    return result;
  }
  const seen = new Set(matches.map(key));
  const add = (resources: Resource[], into: Resource[]): void => {
    for (const r of resources) {
      if (seen.has(key(r))) continue;
      if (result.resources.length >= MAX_INCLUDED) return;
      seen.add(key(r));
      result.resources.push(r);
      into.push(r);
    }
  };
  let frontier = matches;
  for (let round = 0; round <= MAX_INCLUDE_ITERATIONS && frontier.length > 0 && !result.truncated; round++) {
    const added: Resource[] = [];
    // One more than the room left: a statement that fills its limit was cut short (or filled with resources
    // already in the Bundle, which near the bound is said as truncated too, rather than missed).
    const take = async (fetch: (limit: number) => Promise<Resource[]>): Promise<void> => {
      const limit = MAX_INCLUDED - result.resources.length + 1;
      const found = await fetch(limit);
      if (found.length >= limit) result.truncated = true;
      add(found, added);
    };
    for (const rule of request.include.filter((r) => round === 0 || r.iterate)) {
      await take((limit) => includeTargets(ctx, rule, frontier, limit));
    }
    for (const rule of request.revinclude.filter((r) => round === 0 || r.iterate)) {
      await take((limit) => revincludeSources(ctx, rule, frontier, limit));
    }
    frontier = added;
    if (round === MAX_INCLUDE_ITERATIONS && iteratesFrom(request, added)) {
      result.truncated = true;
    }
  }
  return result;
}

const key = (r: Resource): string => `${r.resourceType}/${r.id}`;

/** Whether another round would start from any of `resources` (then the bound, not the data, ended the rounds). */
function iteratesFrom(request: SearchRequest, resources: Resource[]): boolean {
  const types = new Set<string>(resources.map((r) => r.resourceType));
  return (
    request.include.some((r) => r.iterate && types.has(r.sourceType)) ||
    request.revinclude.some((r) => r.iterate && (!r.targetType || types.has(r.targetType)))
  );
}

function idsOf(resources: Resource[], type: string): string[] {
  return resources.filter((r) => r.resourceType === type).map((r) => r.id as string);
}

/** What the `rule.sourceType` resources among `sources` reference through the rule's parameters. */
async function includeTargets(
  ctx: StoreContext,
  rule: IncludeRule,
  sources: Resource[],
  limit: number,
): Promise<Resource[]> {
  const ids = idsOf(sources, rule.sourceType);
  const targets = RESOURCE_TYPES.filter(
    (t) => (!rule.targetType || t === rule.targetType) && ctx.access.allows(t, 'r'),
  );
  if (ids.length === 0 || targets.length === 0) {
    return [];
  }
  const codes = referenceCodes(rule);
  // A member's constraint is built for the types these parameters can reference (any other type it leaves out).
  const named = new Set(codes.flatMap((code) => searchParameter(rule.sourceType, code)?.target ?? targets));
  const p = new Params();
  const { rows } = await ctx.db.query<{ content: Resource }>(
    `SELECT r.content FROM fhir_resources r
     JOIN (SELECT DISTINCT i.ref_type, i.ref_id FROM fhir_index i
           WHERE i.project_id = ${p.add(ctx.access.projectId)} AND i.resource_type = ${p.add(rule.sourceType)}
             AND i.resource_id = ANY(${p.add(ids)}::text[]) AND i.code = ANY(${p.add(codes)}::text[])
             AND i.ref_type = ANY(${p.add(targets)}::text[])) x
       ON r.resource_type = x.ref_type AND r.id = x.ref_id
     WHERE r.project_id = $1 AND NOT r.deleted${confineSql(
       ctx,
       targets.filter((t) => named.has(t)),
       p.values,
     )}
     ORDER BY r.resource_type, r.id LIMIT ${p.add(limit)}`,
    p.values,
  );
  return rows.map((r) => r.content);
}

/** The `rule.sourceType` resources that reference any of `targets` through the rule's parameters. */
async function revincludeSources(
  ctx: StoreContext,
  rule: IncludeRule,
  targets: Resource[],
  limit: number,
): Promise<Resource[]> {
  if (!ctx.access.allows(rule.sourceType, 's')) {
    return [];
  }
  const out: Resource[] = [];
  const types = [...new Set(targets.map((r) => r.resourceType))].filter(
    (t) => !rule.targetType || t === rule.targetType,
  );
  for (const type of types) {
    const p = new Params();
    const { rows } = await ctx.db.query<{ content: Resource }>(
      `SELECT r.content FROM fhir_resources r
       WHERE r.project_id = ${p.add(ctx.access.projectId)} AND r.resource_type = ${p.add(rule.sourceType)}
         AND NOT r.deleted
         AND EXISTS (SELECT 1 FROM fhir_index i
                     WHERE i.project_id = r.project_id AND i.resource_type = r.resource_type AND i.resource_id = r.id
                       AND i.code = ANY(${p.add(referenceCodes(rule))}::text[])
                       AND i.ref_type = ${p.add(type)} AND i.ref_id = ANY(${p.add(idsOf(targets, type))}::text[]))
         ${confineSql(ctx, [rule.sourceType], p.values)}
       ORDER BY r.id LIMIT ${p.add(limit - out.length)}`,
      p.values,
    );
    out.push(...rows.map((r) => r.content));
    if (out.length >= limit) break;
  }
  return out;
}
