/**
 * The host side of the `medplum` client a bot sees in the sandbox. Every method a bot calls arrives here as
 * (client, method, args) and is answered through a `BotFhirClient`, which applies the caller's permissions; the
 * bot itself holds nothing but copies.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.js';
import { HookbotError } from '../infra/errors.js';

/** What a sandboxed client can do, whatever is behind it (the project's store or an EHR's FHIR server). */
export interface BotFhirClient {
  readResource(resourceType: string, id: string): Promise<Resource>;
  searchResources(resourceType: string, query: URLSearchParams): Promise<Resource[]>;
  createResource?(resource: Resource): Promise<Resource>;
  updateResource?(resource: Resource): Promise<Resource>;
  deleteResource?(resourceType: string, id: string): Promise<void>;
}

export type ExecuteBotFn = (idOrReference: string, input: unknown, contentType?: string) => Promise<unknown>;

const str = (value: unknown, what: string): string => {
  if (typeof value !== 'string' || value === '')
    throw new HookbotError('bot.invalid-client-call', `${what} must be a non-empty string`);
  return value;
};

const resourceArg = (value: unknown): Resource => {
  if (typeof value !== 'object' || value === null || typeof (value as Resource).resourceType !== 'string') {
    throw new HookbotError('bot.invalid-client-call', 'Expected a FHIR resource');
  }
  return value as Resource;
};

/** Medplum accepts a query as a string (`name=x&_count=1`), a record or URLSearchParams-like pairs. */
function toSearchParams(query: unknown): URLSearchParams {
  if (query === undefined || query === null) return new URLSearchParams();
  if (typeof query === 'string') return new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  if (Array.isArray(query))
    return new URLSearchParams(query.map((pair) => (Array.isArray(pair) ? pair.map(String) : []) as [string, string]));
  if (typeof query === 'object') {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query as Record<string, unknown>)) {
      for (const v of Array.isArray(value) ? value : [value])
        if (v !== undefined && v !== null) params.append(key, String(v));
    }
    return params;
  }
  throw new HookbotError('bot.invalid-client-call', 'Search query must be a string or an object');
}

function splitReference(reference: unknown): [string, string] {
  const ref =
    typeof reference === 'object' && reference !== null ? (reference as { reference?: unknown }).reference : reference;
  const match = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(typeof ref === 'string' ? ref : '');
  if (!match)
    throw new HookbotError('bot.invalid-client-call', 'readReference needs a relative reference such as "Patient/123"');
  return [match[1] as string, match[2] as string];
}

/** Dispatches one sandbox call to a client. Unknown methods and methods the client lacks are refused. */
export async function dispatchClientCall(
  client: BotFhirClient,
  method: string,
  args: unknown[],
  executeBot?: ExecuteBotFn,
): Promise<unknown> {
  switch (method) {
    case 'readResource':
      return client.readResource(str(args[0], 'resourceType'), str(args[1], 'id'));
    case 'readReference': {
      const [type, id] = splitReference(args[0]);
      return client.readResource(type, id);
    }
    case 'searchResources':
      return client.searchResources(str(args[0], 'resourceType'), toSearchParams(args[1]));
    case 'searchOne': {
      const params = toSearchParams(args[1]);
      params.set('_count', '1');
      return (await client.searchResources(str(args[0], 'resourceType'), params))[0] ?? null;
    }
    case 'createResource':
      if (!client.createResource) break;
      return client.createResource(resourceArg(args[0]));
    case 'updateResource':
      if (!client.updateResource) break;
      return client.updateResource(resourceArg(args[0]));
    case 'deleteResource':
      if (!client.deleteResource) break;
      await client.deleteResource(str(args[0], 'resourceType'), str(args[1], 'id'));
      return null;
    case 'executeBot':
      if (!executeBot) break;
      return executeBot(
        str(
          typeof args[0] === 'object' && args[0] !== null ? (args[0] as { reference?: unknown }).reference : args[0],
          'bot',
        ),
        args[1],
        typeof args[2] === 'string' ? args[2] : undefined,
      );
    default:
      throw new HookbotError('bot.unknown-client-method', `Unknown client method ${method}`);
  }
  throw new HookbotError('bot.client-method-not-allowed', `${method} is not allowed on this client`);
}

/** The project's own store, under the caller's access policy. */
export function repositoryClient(repo: Repository): Required<BotFhirClient> {
  return {
    readResource: (type, id) => repo.read(type, id),
    searchResources: (type, query) => repo.searchResources(type, query),
    createResource: (resource) => repo.create(resource),
    updateResource: (resource) => repo.update(resource),
    deleteResource: (type, id) => repo.delete(type, id),
  };
}

/** A read-only view of the project's store: what CDS bots get for payer-side data. */
export function readOnlyClient(repo: Repository): BotFhirClient {
  return {
    readResource: (type, id) => repo.read(type, id),
    searchResources: (type, query) => repo.searchResources(type, query),
  };
}
