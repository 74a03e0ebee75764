/**
 * The FHIR repository: one caller's view of the store. Every operation checks the caller's scopes
 * (`AccessPolicy.allows`, 403) and is confined to the caller's project (`AccessPolicy.projectId`): another
 * tenant's resources behave exactly like missing ones.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { AccessPolicy } from '../auth/access.js';
import type { Database } from '../infra/database.js';
import { badRequest } from '../infra/errors.js';
import { unstorableText } from '../infra/storable.js';
import { searchResources } from './search/execute.js';
import type { SearchQuery } from './search/parse.js';
import { fhirBaseUrl, type StoreContext } from './store/context.js';
import { typeHistory, type HistoryQuery } from './store/history.js';
import { readResource, resourceHistory, vreadResource } from './store/read.js';
import {
  createResource,
  createResources,
  deleteResource,
  updateResource,
  type CreateManyOptions,
  type UpdateOptions,
} from './store/write.js';

export interface Repository {
  readonly access: AccessPolicy;
  /** Absolute FHIR base URL used in `fullUrl`, `Location` and paging links. */
  readonly fhirBase: string;
  /** Assigns a new id, `meta.versionId` "1" and `meta.lastUpdated`. */
  create<T extends Resource>(resource: T): Promise<T>;
  /** Creates several new resources in one transaction (all or nothing). */
  createMany<T extends Resource>(resources: T[], options?: CreateManyOptions): Promise<T[]>;
  /** 404 when missing or in another project, 410 when deleted. */
  read<T extends Resource>(resourceType: string, id: string): Promise<T>;
  vread<T extends Resource>(resourceType: string, id: string, versionId: string): Promise<T>;
  /** Creates the resource with the given id when it does not exist (the result then has `versionId` "1"). */
  update<T extends Resource>(resource: T, options?: UpdateOptions): Promise<T>;
  /** `ifMatch` (`W/"n"`): 412 unless the current version is n. */
  delete(resourceType: string, id: string, ifMatch?: string): Promise<void>;
  history(resourceType: string, id: string): Promise<Bundle>;
  /** The history of a type, or of every type the caller may read (`undefined`): newest first, paged. */
  typeHistory(resourceType: string | undefined, query: HistoryQuery): Promise<Bundle>;
  search(resourceType: string, query: SearchQuery): Promise<Bundle>;
  searchResources<T extends Resource>(resourceType: string, query: SearchQuery): Promise<T[]>;
  /** Runs `fn` with this caller's repository inside one database transaction: all its writes or none. */
  transaction<T>(fn: (repo: Repository) => Promise<T>): Promise<T>;
}

export interface RepositoryOptions {
  /** The server's base URL (`BASE_URL`) or the FHIR base; `/fhir/R4` is appended when missing. */
  baseUrl?: string;
}

/** An id from a URL or a bot that the store cannot even look up (a NUL) is a 400, not a failed query. */
function lookupId(id: string): string {
  const why = unstorableText(id);
  if (why) throw badRequest('fhir.invalid-id', `Invalid id: it ${why.replace(/, which cannot be stored$/, '')}`, 'id');
  return id;
}

export function createRepository(db: Database, access: AccessPolicy, options: RepositoryOptions = {}): Repository {
  const ctx: StoreContext = { db, access, fhirBase: fhirBaseUrl(options.baseUrl ?? 'http://localhost:8103') };
  return {
    access,
    fhirBase: ctx.fhirBase,
    create: (resource) => createResource(ctx, resource),
    createMany: (resources, options) => createResources(ctx, resources, options),
    read: async (resourceType, id) => readResource(ctx, resourceType, lookupId(id)),
    vread: async (resourceType, id, versionId) => vreadResource(ctx, resourceType, lookupId(id), versionId),
    update: (resource, opts) => updateResource(ctx, resource, opts),
    delete: async (resourceType, id, ifMatch) =>
      deleteResource(ctx, resourceType, lookupId(id), ifMatch === undefined ? {} : { ifMatch }),
    history: async (resourceType, id) => resourceHistory(ctx, resourceType, lookupId(id)),
    typeHistory: (resourceType, query) => typeHistory(ctx, resourceType, query),
    search: (resourceType, query) => searchResources(ctx, resourceType, query),
    searchResources: async <T extends Resource>(resourceType: string, query: SearchQuery) => {
      const bundle = await searchResources(ctx, resourceType, query);
      return (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as T);
    },
    transaction: (fn) => db.transaction((tx) => fn(createRepository(tx, access, options))),
  };
}
