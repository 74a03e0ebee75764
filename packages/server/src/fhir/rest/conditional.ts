/**
 * Conditional operations (FHIR R4 http §3.1.0.8.1 conditional create, §3.1.0.4.3 conditional update, §3.1.0.7.1
 * conditional delete) and conditional references in Bundles (§3.1.0.11.2): a search that must match at most one
 * resource of the caller's project. The search is the repository's, so scopes and tenant hold as for any search.
 */
import type { RouterContext } from '@koa/router';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, HookbotError, preconditionFailed } from '../../infra/errors.js';
import type { Repository } from '../repository.js';
import { refuseConditions, requestConditions } from './preconditions.js';
import { bodyResource, param, sendResource, versionLocation } from './respond.js';
import { updateAt, type Written } from './update.js';

/**
 * What the conditional routes do, for the CapabilityStatement: `If-None-Exist` on create is honoured, and a
 * conditional delete deletes a single match (several are a 412).
 */
export const CONDITIONAL_CAPABILITIES = { create: true, delete: 'single' } as const;

/** The search's matches, at most two: enough to tell none, one and several apart. */
async function firstMatches(repo: Repository, type: string, search: string): Promise<Resource[]> {
  const query = new URLSearchParams(search);
  for (const name of ['_count', '_offset', '_include', '_revinclude', '_summary', '_elements', '_total', '_sort'])
    query.delete(name);
  // Checked once the parameters that only shape results are gone: `?_count=1` alone would match any resource.
  if ([...query.keys()].length === 0) {
    throw badRequest('fhir.invalid-search', `A conditional ${type} needs search parameters`);
  }
  query.set('_count', '2');
  return repo.searchResources(type, query);
}

/** The one match, or undefined for none; 412 when the search matches several (`what` names the operation). */
export async function oneMatch(
  repo: Repository,
  type: string,
  search: string,
  what: string,
): Promise<Resource | undefined> {
  const matches = await firstMatches(repo, type, search);
  if (matches.length > 1) throw preconditionFailed(`${what} ${type}?${search} matches more than one resource`);
  return matches[0];
}

/** `Type?search` in a reference → `Type/id` of its one match; none is a 400, several a 412. */
export async function resolveConditionalReference(repo: Repository, reference: string): Promise<string> {
  const [type = '', search = ''] = reference.split(/\?(.*)/s);
  const match = await oneMatch(repo, type, search, 'The conditional reference');
  if (!match) {
    throw new HookbotError('fhir.unresolved-reference', `The conditional reference ${reference} matches no resource`);
  }
  return `${type}/${match.id}`;
}

/** Creates `resource` unless `ifNoneExist` (a search) matches: one match is answered as is, several are a 412. */
export async function createIfNoneExist(repo: Repository, resource: Resource, ifNoneExist?: string): Promise<Written> {
  const existing =
    ifNoneExist === undefined ? undefined : await oneMatch(repo, resource.resourceType, ifNoneExist, 'If-None-Exist');
  return existing ? { resource: existing, created: false } : { resource: await repo.create(resource), created: true };
}

/**
 * `PUT [type]?search`: updates the one match (the body's id, if any, must be the match's); no match creates (with
 * the body's id when it has one); several are a 412.
 */
export async function conditionalUpdate(
  repo: Repository,
  type: string,
  search: string,
  resource: Resource,
  ifMatch?: string,
): Promise<Written> {
  const match = await oneMatch(repo, type, search, 'The conditional update');
  if (match && resource.id !== undefined && resource.id !== match.id) {
    throw badRequest('fhir.invalid-resource', `Resource id must be the match's (${match.id})`, `${type}.id`);
  }
  const id = match?.id ?? resource.id;
  if (id === undefined) return { resource: await repo.create(resource), created: true };
  return updateAt(repo, id, { ...resource, id }, ifMatch);
}

/**
 * `DELETE [type]?search`: deletes the one match; none deletes nothing; several are a 412. `ifMatch` applies to the
 * match, and with no match is a 412 (as an update's `If-Match` on a missing resource).
 */
export async function conditionalDelete(
  repo: Repository,
  type: string,
  search: string,
  ifMatch?: string,
): Promise<void> {
  const match = await oneMatch(repo, type, search, 'The conditional delete');
  if (match?.id !== undefined) await repo.delete(type, match.id, ifMatch);
  else if (ifMatch !== undefined) throw preconditionFailed(`If-Match ${ifMatch} does not match: no resource matches`);
}

/** PUT [base]/[type]?search → 200, or 201 with Location when it created the resource. */
export async function conditionalUpdateHandler(ctx: RouterContext): Promise<void> {
  const { ifMatch, ...others } = requestConditions(ctx);
  refuseConditions(others, [], 'conditional update');
  const written = await conditionalUpdate(
    ctx.state.repo,
    param(ctx, 'type'),
    ctx.querystring,
    bodyResource(ctx),
    ifMatch,
  );
  if (written.created) ctx.set('Location', versionLocation(ctx, written.resource));
  sendResource(ctx, written.resource, written.created ? 201 : 200);
}

/** DELETE [base]/[type]?search → 204. */
export async function conditionalDeleteHandler(ctx: RouterContext): Promise<void> {
  const conditions = requestConditions(ctx);
  refuseConditions(conditions, ['ifMatch'], 'conditional delete');
  await conditionalDelete(ctx.state.repo, param(ctx, 'type'), ctx.querystring, conditions.ifMatch);
  ctx.status = 204;
}
