/**
 * History (FHIR R4 http §3.1.0.9), newest first: of an instance (`GET [type]/[id]/_history`, every version), of a
 * type (`GET [type]/_history`) and of the system (`GET _history`), those two paged (`_count`, default 20, at most
 * 1,000; `_offset` in the links) and narrowed by `_since`. `_summary` and `_elements` subset each version.
 */
import type { RouterContext } from '@koa/router';
import type { Bundle } from '@medplum/fhirtypes';
import { badRequest } from '../../infra/errors.js';
import type { HistoryQuery } from '../store/history.js';
import { checkElements, parseSubset, subsetResource, type Subset } from '../subset.js';
import { refuseConditions, requestConditions } from './preconditions.js';
import { param, sendJson } from './respond.js';

const DEFAULT_COUNT = 20;
const MAX_COUNT = 1000;
/** Accepted and not changing what is answered. */
const IGNORED = ['_format', '_pretty'];
const SUBSET = ['_summary', '_elements'];
/** An instant with a time zone (FHIR `instant`), seconds optional as in search dates. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export async function historyHandler(ctx: RouterContext): Promise<void> {
  const { subset } = parseQuery(ctx, param(ctx, 'type'), false);
  sendJson(ctx, subsetEntries(await ctx.state.repo.history(param(ctx, 'type'), param(ctx, 'id')), subset));
}

export async function typeHistoryHandler(ctx: RouterContext): Promise<void> {
  const { query, subset } = parseQuery(ctx, param(ctx, 'type'), true);
  sendJson(ctx, subsetEntries(await ctx.state.repo.typeHistory(param(ctx, 'type'), query), subset));
}

export async function systemHistoryHandler(ctx: RouterContext): Promise<void> {
  const { query, subset } = parseQuery(ctx, undefined, true);
  sendJson(ctx, subsetEntries(await ctx.state.repo.typeHistory(undefined, query), subset));
}

function subsetEntries(bundle: Bundle, subset: Subset | undefined): Bundle {
  if (!subset) return bundle;
  return {
    ...bundle,
    entry: bundle.entry?.map((e) => (e.resource ? { ...e, resource: subsetResource(e.resource, subset) } : e)),
  };
}

/** The history parameters; anything else (`_at`, `_list`, a search parameter) is a 400, not ignored. */
function parseQuery(
  ctx: RouterContext,
  resourceType: string | undefined,
  paged: boolean,
): { query: HistoryQuery; subset: Subset | undefined } {
  refuseConditions(requestConditions(ctx), [], 'history');
  const params = new URLSearchParams(ctx.querystring);
  const query: HistoryQuery = { count: DEFAULT_COUNT, offset: 0, total: false, entries: [] };
  const known = paged ? ['_since', '_count', '_offset', '_total', ...SUBSET, ...IGNORED] : [...SUBSET, ...IGNORED];
  for (const [key, value] of params) {
    if (!known.includes(key)) {
      throw badRequest('fhir.invalid-search', `"${key}" is not a parameter of this history`, key);
    }
    if (key !== '_count' && key !== '_offset') query.entries.push([key, value]);
    if (key === '_since') {
      if (!INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
        throw badRequest('fhir.invalid-search', `_since must be an instant with a time zone: "${value}"`, '_since');
      }
      query.since = new Date(value).toISOString();
    } else if (key === '_count' || key === '_offset') {
      const n = Number(value);
      if (!/^\d{1,9}$/.test(value)) {
        throw badRequest('fhir.invalid-search', `${key} must be a non-negative integer`, key);
      }
      if (key === '_count') query.count = Math.min(Math.max(n, 1), MAX_COUNT);
      else query.offset = n;
    } else if (key === '_total') {
      if (!['none', 'estimate', 'accurate'].includes(value)) {
        throw badRequest('fhir.invalid-search', `Invalid _total "${value}": expected none, estimate or accurate`, key);
      }
      query.total = value !== 'none';
    }
  }
  const subset = parseSubset(params);
  if (resourceType !== undefined) checkElements(resourceType, subset);
  return { query, subset };
}
