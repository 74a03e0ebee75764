/**
 * POST [base] with a `transaction` or `batch` Bundle (FHIR R4 http §3.1.0.11).
 * A transaction is one database transaction, run in the spec's order (DELETE, POST, PUT, GET; §3.1.0.11.2): its
 * entries refer to each other by `fullUrl` (`urn:uuid:…` or `[base]/Type/id`), and POST entries are written in
 * chunks of one statement each. Any failure rolls it all back and answers one OperationOutcome naming the entry.
 * A batch runs each entry on its own and answers each entry's status or OperationOutcome.
 */
import { STATUS_CODES } from 'node:http';
import type { RouterContext } from '@koa/router';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { operationOutcome } from '../../infra/error-middleware.js';
import { badRequest, HookbotError } from '../../infra/errors.js';
import type { Repository } from '../repository.js';
import { newResourceId } from '../store/new-id.js';
import {
  atEntry,
  ENTRY_METHODS,
  parseEntry,
  responseEntry,
  rewriteReferences,
  runEntry,
  type Entry,
} from './bundle-entry.js';
import { oneMatch } from './conditional.js';
import { sendJson } from './respond.js';

/** POST entries of a transaction are created this many per statement. */
const CHUNK = 500;

export function bundleHandler(maxEntries: number) {
  return async (ctx: RouterContext): Promise<void> => {
    const logInternal = (err: unknown) => ctx.state.log().error({ err }, 'a batch entry failed');
    sendJson(ctx, await runBundle(ctx.state.repo, (ctx.request as { body?: unknown }).body, maxEntries, logInternal));
  };
}

/** The `transaction-response` or `batch-response` of a posted Bundle; a failed transaction throws. */
export async function runBundle(
  repo: Repository,
  body: unknown,
  maxEntries: number,
  logInternal: (err: unknown) => void = () => undefined,
): Promise<Bundle> {
  const { type, entry } = checkBundle(body, maxEntries);
  const entries = type === 'transaction' ? await transaction(repo, entry) : await batch(repo, entry, logInternal);
  return { resourceType: 'Bundle', type: `${type}-response`, entry: entries };
}

/** The Bundle types `POST [base]` processes (CapabilityStatement system interactions). */
export const BUNDLE_TYPES = ['transaction', 'batch'] as const;

type BundleType = (typeof BUNDLE_TYPES)[number];
const isBundleType = (type: unknown): type is BundleType => BUNDLE_TYPES.some((t) => t === type);

function checkBundle(body: unknown, maxEntries: number): { type: BundleType; entry: unknown[] } {
  const bundle = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (bundle.resourceType !== 'Bundle' || !isBundleType(bundle.type)) {
    throw badRequest('fhir.invalid-resource', 'POST [base] takes a Bundle of type transaction or batch', 'Bundle.type');
  }
  const entry = bundle.entry ?? [];
  if (!Array.isArray(entry)) throw badRequest('fhir.invalid-resource', 'Bundle.entry must be a list', 'Bundle.entry');
  if (entry.length > maxEntries) {
    throw new HookbotError(
      'fhir.bundle-too-large',
      `A Bundle may hold at most ${maxEntries} entries (HOOKBOT_MAX_BUNDLE_ENTRIES); this one holds ${entry.length}`,
    );
  }
  return { type: bundle.type, entry };
}

async function located<T>(index: number, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw atEntry(index, err);
  }
}

const withReferences = async (repo: Repository, entry: Entry, local: ReadonlyMap<string, string>) =>
  entry.resource ? { ...entry, resource: await rewriteReferences(repo, entry.resource, local) } : entry;

async function transaction(repo: Repository, raw: unknown[]): Promise<BundleEntry[]> {
  const parsed: Entry[] = [];
  for (const [index, entry] of raw.entries())
    parsed.push(await located(index, () => parseEntry(entry, index, repo.fhirBase)));
  // Ids of the resources the transaction creates are known before any is written, so that they can refer to each other.
  const ids = new Map(parsed.filter((e) => e.method === 'POST').map((e) => [e.index, newResourceId()]));
  return repo.transaction(async (tx) => {
    // A conditional PUT becomes a PUT of its match's id (or of a new one) first, so that other entries can refer to it.
    const entries: Entry[] = [];
    for (const entry of parsed) entries.push(await located(entry.index, () => pinConditionalUpdate(tx, entry)));
    const local = localReferences(entries, ids);
    const responses: BundleEntry[] = [];
    for (const method of ENTRY_METHODS) {
      const group = entries.filter((e) => e.method === method);
      if (method === 'POST') {
        await createAll(tx, group, ids, local, responses);
        continue;
      }
      for (const entry of group) {
        responses[entry.index] = await located(entry.index, async () =>
          runEntry(tx, await withReferences(tx, entry, local)),
        );
      }
    }
    return responses;
  });
}

/**
 * `PUT [type]?search` as `PUT [type]/[id]`: the id of its one match, else the body's, else a new one (several
 * matches are a 412; a body id other than the match's a 400, as on the single route). Other entries unchanged.
 */
async function pinConditionalUpdate(tx: Repository, entry: Entry): Promise<Entry> {
  if (entry.method !== 'PUT' || entry.search === undefined || !entry.resource) return entry;
  const match = await oneMatch(tx, entry.type, entry.search, 'The conditional update');
  const bodyId = entry.resource.id;
  if (match && bodyId !== undefined && bodyId !== match.id) {
    throw badRequest('fhir.invalid-resource', `Resource id must be the match's (${match.id})`, `${entry.type}.id`);
  }
  const id = match?.id ?? bodyId ?? newResourceId();
  const { search: _search, ...rest } = entry;
  return { ...rest, id, resource: { ...entry.resource, id } };
}

/** fullUrl (and its `Type/id`) → `Type/{id}` for the entries that create or update a resource of known id. */
function localReferences(entries: Entry[], ids: ReadonlyMap<number, string>): Map<string, string> {
  const local = new Map<string, string>();
  for (const entry of entries) {
    const id = ids.get(entry.index) ?? (entry.method === 'PUT' ? entry.id : undefined);
    if (entry.fullUrl === undefined || id === undefined) continue;
    if (local.has(entry.fullUrl))
      throw atEntry(
        entry.index,
        badRequest('fhir.invalid-resource', `fullUrl ${entry.fullUrl} is not unique`, 'fullUrl'),
      );
    local.set(entry.fullUrl, `${entry.type}/${id}`);
    // A reference `Type/id` within the Bundle names the entry whose fullUrl is `[base]/Type/id` (§3.1.0.11.2).
    const path = /([A-Z][A-Za-z]*\/[^/]+)$/.exec(entry.fullUrl)?.[1];
    if (path && !local.has(path)) local.set(path, `${entry.type}/${id}`);
  }
  return local;
}

/** The POST entries: a conditional create that matches answers the match; the others are created in chunks. */
async function createAll(
  tx: Repository,
  group: Entry[],
  ids: Map<number, string>,
  local: Map<string, string>,
  responses: BundleEntry[],
): Promise<void> {
  const toCreate: Entry[] = [];
  for (const entry of group) {
    const { index, type, ifNoneExist, fullUrl } = entry;
    const existing =
      ifNoneExist === undefined
        ? undefined
        : await located(index, () => oneMatch(tx, type, ifNoneExist, 'If-None-Exist'));
    if (!existing) {
      toCreate.push(entry);
      continue;
    }
    responses[index] = responseEntry(200, existing);
    if (fullUrl !== undefined) local.set(fullUrl, `${type}/${existing.id}`);
  }
  for (let start = 0; start < toCreate.length; start += CHUNK) {
    const chunk = toCreate.slice(start, start + CHUNK);
    const resources: Resource[] = [];
    for (const entry of chunk)
      resources.push((await located(entry.index, () => withReferences(tx, entry, local))).resource as Resource);
    const created = await tx.createMany(resources, {
      ids: chunk.map((e) => ids.get(e.index) as string),
      onRejected: (i, err) => atEntry(chunk[i]?.index ?? -1, err),
    });
    created.forEach((resource, i) => (responses[chunk[i]?.index ?? -1] = responseEntry(201, resource)));
  }
}

async function batch(repo: Repository, raw: unknown[], logInternal: (err: unknown) => void): Promise<BundleEntry[]> {
  const responses: BundleEntry[] = [];
  for (const [index, raw_] of raw.entries()) {
    try {
      const entry = parseEntry(raw_, index, repo.fhirBase);
      responses.push(await runEntry(repo, await withReferences(repo, entry, new Map())));
    } catch (err) {
      responses.push(failedEntry(err, logInternal));
    }
  }
  return responses;
}

/** A batch entry's error, as the single routes would answer it; an unexpected one is logged, not shown. */
function failedEntry(err: unknown, logInternal: (err: unknown) => void): BundleEntry {
  if (!(err instanceof HookbotError)) logInternal(err);
  const error = err instanceof HookbotError ? err : new HookbotError('server.internal', 'Internal server error');
  return {
    response: {
      status: `${error.status} ${STATUS_CODES[error.status] ?? ''}`.trim(),
      outcome: operationOutcome(error.issues, error.errorCode) as OperationOutcome,
    },
  };
}
