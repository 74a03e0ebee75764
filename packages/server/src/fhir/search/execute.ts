/**
 * Runs a parsed search: the page of matches, the optional total, `_include`/`_revinclude`, and the searchset
 * Bundle with paging links. Every statement is confined to the caller's project.
 */
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import { allSearchParameters, searchParameter } from '../definitions.js';
import { RESOURCE_TYPES } from '../resource-types.js';
import { subsetResource } from '../subset.js';
import { authorize, confineSql, type StoreContext } from '../store/context.js';
import { parseSearchRequest, type IncludeRule, type SearchQuery, type SearchRequest } from './parse.js';
import { buildOrderBy, buildWhere, Params } from './sql.js';

export async function searchResources(ctx: StoreContext, resourceType: string, query: SearchQuery): Promise<Bundle> {
  authorize(ctx, resourceType, 's');
  const request = parseSearchRequest(resourceType, query);
  const where = buildWhere(ctx.access.projectId, request);
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
    ...included.map((resource) => toEntry(ctx, resource, 'include')),
  ];
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

/**
 * `_include` targets need read access, `_revinclude` sources search access; others are left out silently, and so
 * are, for a member, resources outside their compartment.
 */
async function includes(ctx: StoreContext, request: SearchRequest, matches: Resource[]): Promise<Resource[]> {
  if (matches.length === 0 || (request.include.length === 0 && request.revinclude.length === 0)) {
    return [];
  }
  const ids = matches.map((r) => r.id);
  const seen = new Set(matches.map((r) => `${r.resourceType}/${r.id}`));
  const out: Resource[] = [];
  const add = (resources: Resource[]): void => {
    for (const r of resources) {
      const key = `${r.resourceType}/${r.id}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(r);
      }
    }
  };
  for (const rule of request.include) {
    const targets = RESOURCE_TYPES.filter(
      (t) => (!rule.targetType || t === rule.targetType) && ctx.access.allows(t, 'r'),
    );
    if (targets.length === 0) {
      continue;
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
       )}`,
      p.values,
    );
    add(rows.map((r) => r.content));
  }
  for (const rule of request.revinclude) {
    if (!ctx.access.allows(rule.sourceType, 's') || (rule.targetType && rule.targetType !== request.resourceType)) {
      continue;
    }
    const p = new Params();
    const { rows } = await ctx.db.query<{ content: Resource }>(
      `SELECT r.content FROM fhir_resources r
       WHERE r.project_id = ${p.add(ctx.access.projectId)} AND r.resource_type = ${p.add(rule.sourceType)}
         AND NOT r.deleted
         AND EXISTS (SELECT 1 FROM fhir_index i
                     WHERE i.project_id = r.project_id AND i.resource_type = r.resource_type AND i.resource_id = r.id
                       AND i.code = ANY(${p.add(referenceCodes(rule))}::text[])
                       AND i.ref_type = ${p.add(request.resourceType)} AND i.ref_id = ANY(${p.add(ids)}::text[]))
         ${confineSql(ctx, [rule.sourceType], p.values)}
       ORDER BY r.id LIMIT ${p.add(MAX_INCLUDED)}`,
      p.values,
    );
    add(rows.map((r) => r.content));
  }
  return out;
}

/** Bound on `_revinclude` rows per rule, so one popular target cannot make a page unbounded. */
const MAX_INCLUDED = 1000;
