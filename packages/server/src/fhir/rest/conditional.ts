/**
 * Conditional operations (FHIR R4 http §3.1.0.8.1 conditional create, §3.1.0.4.3 conditional update, §3.1.0.7.1
 * conditional delete) and conditional references in Bundles (§3.1.0.11.2): a search that must match at most one
 * resource of the caller's project. The search is the repository's, so scopes and tenant hold as for any search.
 */
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, HookbotError, preconditionFailed } from '../../infra/errors.js';
import type { Repository } from '../repository.js';

/** The search's matches, at most two: enough to tell none, one and several apart. */
async function firstMatches(repo: Repository, type: string, search: string): Promise<Resource[]> {
  const query = new URLSearchParams(search);
  if ([...query.keys()].length === 0) {
    throw badRequest('fhir.invalid-search', `A conditional ${type} needs search parameters`);
  }
  for (const name of ['_count', '_offset', '_include', '_revinclude', '_summary', '_total', '_sort'])
    query.delete(name);
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
