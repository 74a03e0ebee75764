/**
 * One entry of a transaction or batch Bundle: its request parsed, its references rewritten, and run through the
 * repository (the same scopes, validation and tenant as the single-resource routes) into a response entry.
 */
import { STATUS_CODES } from 'node:http';
import type { BundleEntry, Resource } from '@medplum/fhirtypes';
import { badRequest, HookbotError, notFound } from '../../infra/errors.js';
import type { Repository } from '../repository.js';
import {
  conditionalDelete,
  conditionalUpdate,
  createIfNoneExist,
  oneMatch,
  resolveConditionalReference,
} from './conditional.js';
import { JSON_PATCH, patchResource } from './patch.js';
import { readStatus, refuseConditions, type Condition, type Conditions } from './preconditions.js';
import { checkElements, parseSubset, subsetResource, type Subset } from '../subset.js';
import { resourceOfType } from './respond.js';
import { updateAt } from './update.js';

/** The methods of entries, in the order a transaction runs them (§3.1.0.11.2: PATCH with PUT, after it here). */
export const ENTRY_METHODS = ['DELETE', 'POST', 'PUT', 'PATCH', 'GET'] as const;
type Method = (typeof ENTRY_METHODS)[number];

export interface Entry {
  index: number;
  method: Method;
  type: string;
  id?: string;
  /** `_history` (empty) or `_history/{vid}` (the version) after `[type]/[id]`. */
  version?: string;
  /** The search of a search or conditional operation (after `?`). */
  search?: string;
  resource?: Resource;
  /** A PATCH entry's patch: a JSON Patch (from a Binary) or a FHIRPath Patch (Parameters). */
  patch?: unknown;
  fullUrl?: string;
  ifMatch?: string;
  ifNoneExist?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
}

/** The conditions each method takes (`preconditions.ts`); GET's only on a read or vread, checked when it runs. */
const METHOD_CONDITIONS: Record<Method, Condition[]> = {
  GET: ['ifMatch', 'ifNoneMatch', 'ifModifiedSince'],
  POST: ['ifNoneExist'],
  PUT: ['ifMatch'],
  PATCH: ['ifMatch'],
  DELETE: ['ifMatch'],
};

const URL_PATTERN = /^([A-Z][A-Za-z]*)(?:\/([^/?]+)(\/_history(?:\/([^/?]+))?)?)?(?:\?(.*))?$/s;

/** `entry[index]` of the posted Bundle as an Entry; a 400 when it is not one the server can run. */
export function parseEntry(raw: unknown, index: number, fhirBase: string): Entry {
  const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as BundleEntry;
  const { method, url, ifMatch, ifNoneExist, ifNoneMatch, ifModifiedSince } = entry.request ?? {};
  if (!(ENTRY_METHODS as readonly unknown[]).includes(method) || typeof url !== 'string') {
    throw badRequest(
      'fhir.invalid-resource',
      `request.method must be one of ${ENTRY_METHODS.join(', ')} and request.url a string`,
      'request',
    );
  }
  const relative = url.startsWith(`${fhirBase}/`) ? url.slice(fhirBase.length + 1) : url;
  const match = URL_PATTERN.exec(relative);
  if (!match)
    throw badRequest(
      'fhir.invalid-resource',
      `request.url "${url}" is not [type], [type]/[id] or [type]?search`,
      'request.url',
    );
  const [, type = '', id, history, vid, search] = match;
  const parsed: Entry = {
    index,
    method: method as Method,
    type,
    ...(id === undefined ? {} : { id }),
    ...(history === undefined ? {} : { version: vid ?? '' }),
    ...(search === undefined ? {} : { search }),
    ...(typeof entry.fullUrl === 'string' ? { fullUrl: entry.fullUrl } : {}),
    ...(typeof ifMatch === 'string' ? { ifMatch } : {}),
    ...(typeof ifNoneExist === 'string' ? { ifNoneExist } : {}),
    ...(typeof ifNoneMatch === 'string' ? { ifNoneMatch } : {}),
    ...(typeof ifModifiedSince === 'string' ? { ifModifiedSince } : {}),
  };
  refuseConditions(conditionsOf(parsed), METHOD_CONDITIONS[parsed.method], `a ${parsed.method} entry`);
  if (parsed.method === 'GET' && (parsed.id === undefined || parsed.version === '')) {
    refuseConditions(conditionsOf(parsed), [], 'a search or history entry');
  }
  const shapeOk =
    parsed.method === 'GET' ||
    (parsed.version === undefined &&
      (parsed.method === 'POST' ? parsed.id === undefined : (parsed.id === undefined) !== (search === undefined)));
  if (!shapeOk)
    throw badRequest(
      'fhir.invalid-resource',
      `${parsed.method} ${url} is not an interaction of the server`,
      'request.url',
    );
  if (parsed.method === 'POST' || parsed.method === 'PUT') parsed.resource = resourceOfType(entry.resource, type);
  if (parsed.method === 'PATCH') parsed.resource = patchOf(entry.resource);
  return parsed;
}

const conditionsOf = (entry: Entry): Conditions => ({
  ...(entry.ifMatch === undefined ? {} : { ifMatch: entry.ifMatch }),
  ...(entry.ifNoneExist === undefined ? {} : { ifNoneExist: entry.ifNoneExist }),
  ...(entry.ifNoneMatch === undefined ? {} : { ifNoneMatch: entry.ifNoneMatch }),
  ...(entry.ifModifiedSince === undefined ? {} : { ifModifiedSince: entry.ifModifiedSince }),
});

/**
 * A PATCH entry's resource (§3.1.0.11.1): a Binary holding a JSON Patch (`contentType`
 * `application/json-patch+json`, the patch base64 in `data`), or a Parameters resource, a FHIRPath Patch.
 */
function patchOf(raw: unknown): Resource {
  const resource = (typeof raw === 'object' && raw !== null ? raw : {}) as Resource;
  if (resource.resourceType === 'Parameters') return resource;
  if (resource.resourceType === 'Binary' && resource.contentType?.split(';')[0]?.trim() === JSON_PATCH) {
    return resource;
  }
  throw badRequest(
    'fhir.invalid-patch',
    `A PATCH entry's resource is a Binary of ${JSON_PATCH} or a Parameters resource (FHIRPath Patch)`,
    'resource',
  );
}

/** The patch a PATCH entry's resource holds (a Binary's is decoded here, after its references were rewritten). */
function patchBody(resource: Resource): unknown {
  if (resource.resourceType !== 'Binary') return resource;
  try {
    return JSON.parse(Buffer.from(resource.data ?? '', 'base64').toString('utf8')) as unknown;
  } catch {
    throw badRequest(
      'fhir.invalid-patch',
      'The Binary does not hold a JSON Patch (base64 JSON in data)',
      'resource.data',
    );
  }
}

/** `Bundle.entry[i]: …` on each issue, so that the one OperationOutcome of a failed transaction names its entry. */
export function atEntry(index: number, err: unknown): unknown {
  if (!(err instanceof HookbotError)) return err;
  const where = `Bundle.entry[${index}]`;
  return new HookbotError(err.errorCode, `${where}: ${err.message}`, {
    status: err.status,
    headers: err.headers,
    issues: err.issues.map((i) => ({
      ...i,
      diagnostics: `${where}: ${i.diagnostics}`,
      expression: [where, ...(i.expression ?? [])],
    })),
  });
}

/**
 * Rewrites the references in `resource`: to another entry (`urn:uuid:…`, or its fullUrl) by `local`, and
 * conditional ones (`Type?search`) to their one match. Returns a copy.
 */
export async function rewriteReferences(
  repo: Repository,
  resource: Resource,
  local: ReadonlyMap<string, string>,
): Promise<Resource> {
  const pending: Promise<void>[] = [];
  const copy = JSON.parse(JSON.stringify(resource), function (this: Record<string, unknown>, key, value: unknown) {
    if (key !== 'reference' || typeof value !== 'string') return value;
    const target = local.get(value);
    if (target) return target;
    if (value.startsWith('urn:uuid:') || value.startsWith('urn:oid:')) {
      throw new HookbotError('fhir.unresolved-reference', `The reference ${value} names no entry of the Bundle`);
    }
    if (/^[A-Z][A-Za-z]*\?/.test(value)) {
      pending.push(resolveConditionalReference(repo, value).then((resolved) => void (this[key] = resolved)));
    }
    return value;
  }) as Resource;
  await Promise.all(pending);
  return copy;
}

/** The response of an entry that wrote or read `resource` with HTTP `status`. */
export function responseEntry(status: number, resource?: Resource, withResource = false): BundleEntry {
  const { versionId, lastUpdated } = resource?.meta ?? {};
  const written = status === 201 || (resource && !withResource);
  return {
    ...(withResource && resource ? { resource } : {}),
    response: {
      status: `${status} ${STATUS_CODES[status] ?? ''}`.trim(),
      ...(written && resource ? { location: `${resource.resourceType}/${resource.id}/_history/${versionId}` } : {}),
      ...(versionId ? { etag: `W/"${versionId}"` } : {}),
      ...(lastUpdated ? { lastModified: lastUpdated } : {}),
    },
  };
}

/** The `_summary` / `_elements` of a read, vread or history entry's URL; any other parameter there is a 400. */
function readSubset(type: string, search: string): Subset | undefined {
  const query = new URLSearchParams(search);
  for (const key of query.keys()) {
    if (!['_summary', '_elements', '_format', '_pretty'].includes(key)) {
      throw badRequest('fhir.invalid-search', `"${key}" is not a parameter of a read or history`, 'request.url');
    }
  }
  const subset = parseSubset(query);
  checkElements(type, subset);
  return subset;
}

/** Runs one entry (its references already rewritten) and answers its response entry. */
export async function runEntry(repo: Repository, entry: Entry): Promise<BundleEntry> {
  const { type, id, search = '', resource } = entry;
  switch (entry.method) {
    case 'GET':
      if (id === undefined)
        return { resource: await repo.search(type, new URLSearchParams(search)), response: { status: '200 OK' } };
      {
        const subset = readSubset(type, search);
        if (entry.version === '') {
          const history = await repo.history(type, id);
          const entries = history.entry?.map((e) =>
            e.resource ? { ...e, resource: subsetResource(e.resource, subset) } : e,
          );
          return { resource: { ...history, ...(entries ? { entry: entries } : {}) }, response: { status: '200 OK' } };
        }
        const read = await (entry.version ? repo.vread(type, id, entry.version) : repo.read(type, id));
        if (readStatus(read, conditionsOf(entry)) === 304) {
          const { response } = responseEntry(200, read);
          return { response: { ...response, status: '304 Not Modified', location: undefined } };
        }
        return responseEntry(200, subsetResource(read, subset), true);
      }
    case 'POST': {
      const created = await createIfNoneExist(repo, resource as Resource, entry.ifNoneExist);
      return responseEntry(created.created ? 201 : 200, created.resource);
    }
    case 'PUT': {
      const updated = await (id === undefined
        ? conditionalUpdate(repo, type, search, resource as Resource, entry.ifMatch)
        : updateAt(repo, id, resource as Resource, entry.ifMatch));
      return responseEntry(updated.created ? 201 : 200, updated.resource);
    }
    case 'PATCH': {
      const target = id ?? (await oneMatch(repo, type, search, 'The conditional patch'))?.id;
      if (target === undefined)
        throw notFound('fhir.not-found', `The conditional patch ${type}?${search} matches nothing`);
      const patched = await patchResource(repo, type, target, patchBody(resource as Resource), entry.ifMatch);
      return responseEntry(200, patched.resource);
    }
    case 'DELETE':
      await (id === undefined
        ? conditionalDelete(repo, type, search, entry.ifMatch)
        : repo.delete(type, id, entry.ifMatch));
      return responseEntry(204);
  }
}
