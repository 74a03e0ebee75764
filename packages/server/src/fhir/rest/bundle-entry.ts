/**
 * One entry of a transaction or batch Bundle: its request parsed, its references rewritten, and run through the
 * repository (the same scopes, validation and tenant as the single-resource routes) into a response entry.
 */
import { STATUS_CODES } from 'node:http';
import type { BundleEntry, Resource } from '@medplum/fhirtypes';
import { badRequest, HookbotError } from '../../infra/errors.js';
import type { Repository } from '../repository.js';
import { conditionalDelete, conditionalUpdate, createIfNoneExist, resolveConditionalReference } from './conditional.js';
import { resourceOfType } from './respond.js';
import { updateAt } from './update.js';

export const ENTRY_METHODS = ['DELETE', 'POST', 'PUT', 'GET'] as const;
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
  fullUrl?: string;
  ifMatch?: string;
  ifNoneExist?: string;
}

const URL_PATTERN = /^([A-Z][A-Za-z]*)(?:\/([^/?]+)(\/_history(?:\/([^/?]+))?)?)?(?:\?(.*))?$/s;

/** `entry[index]` of the posted Bundle as an Entry; a 400 when it is not one the server can run. */
export function parseEntry(raw: unknown, index: number, fhirBase: string): Entry {
  const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as BundleEntry;
  const { method, url, ifMatch, ifNoneExist } = entry.request ?? {};
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
  };
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
  return parsed;
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

/** Runs one entry (its references already rewritten) and answers its response entry. */
export async function runEntry(repo: Repository, entry: Entry): Promise<BundleEntry> {
  const { type, id, search = '', resource } = entry;
  switch (entry.method) {
    case 'GET':
      if (id === undefined)
        return { resource: await repo.search(type, new URLSearchParams(search)), response: { status: '200 OK' } };
      if (entry.version === '') return { resource: await repo.history(type, id), response: { status: '200 OK' } };
      return responseEntry(
        200,
        await (entry.version ? repo.vread(type, id, entry.version) : repo.read(type, id)),
        true,
      );
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
    case 'DELETE':
      await (id === undefined ? conditionalDelete(repo, type, search) : repo.delete(type, id, entry.ifMatch));
      return responseEntry(204);
  }
}
