/**
 * OperationDefinitions served from code: each domain declares the operations it implements beside them (e.g.
 * `bots/operation-definitions.ts`) and the app hands them to the CapabilityStatement, which serves those a route
 * implements. They are the same for every project and never stored.
 */
import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';
import { badRequest } from '../../infra/errors.js';

export const HOOKBOT_OPERATIONS = 'https://hookbot.dev/fhir/OperationDefinition';

type Definition = Omit<OperationDefinition, 'resourceType' | 'status' | 'kind' | 'id' | 'url' | 'name' | 'code'> & {
  id: string;
  code: string;
  /** The canonical URL of an implementation guide's definition; Hookbot's own otherwise. */
  url?: string;
  name?: string;
};

/** A complete OperationDefinition: `url` is Hookbot's unless an implementation guide defines the operation. */
export function operationDefinition(definition: Definition): OperationDefinition {
  const { id, code, url, name, ...rest } = definition;
  return {
    resourceType: 'OperationDefinition',
    id,
    url: url ?? `${HOOKBOT_OPERATIONS}/${id}`,
    name: name ?? id.replace(/[^A-Za-z0-9]/g, ''),
    status: 'active',
    kind: 'operation',
    code,
    ...rest,
  };
}

/** One parameter (`use` in or out); `max` defaults to 1. */
export function parameter(
  use: 'in' | 'out',
  name: string,
  type: OperationDefinitionParameter['type'] | undefined,
  min: number,
  documentation: string,
  max = '1',
): OperationDefinitionParameter {
  return { name, use, min, max, documentation, ...(type ? { type } : {}) };
}

/** The parameters `GET OperationDefinition` takes (besides `_format` and `_pretty`, ignored as on every search). */
export const OPERATION_DEFINITION_SEARCH = [
  { name: '_id', type: 'token' },
  { name: 'url', type: 'uri' },
  { name: 'code', type: 'token' },
] as const;

/**
 * The definitions matching every parameter of `query` (comma-separated values are alternatives); `_count` and
 * `_offset` page them, `_summary=count` and `_total` are answered by the caller (the total is always exact).
 */
export function searchOperationDefinitions(
  definitions: readonly OperationDefinition[],
  query: URLSearchParams,
): OperationDefinition[] {
  let matches = [...definitions];
  const page = { offset: 0, count: Infinity };
  for (const [key, value] of query) {
    if (key === '_format' || key === '_pretty' || key === '_total' || (key === '_summary' && value === 'count'))
      continue;
    if (key === '_count' || key === '_offset') {
      if (!/^\d+$/.test(value)) throw badRequest('fhir.invalid-search', `Invalid ${key} "${value}"`, key);
      page[key === '_count' ? 'count' : 'offset'] = Number(value);
      continue;
    }
    const field = { _id: 'id', url: 'url', code: 'code' }[key] as 'id' | 'url' | 'code' | undefined;
    if (!field)
      throw badRequest('fhir.invalid-search', `Unknown search parameter "${key}" for OperationDefinition`, key);
    const values = value.split(',');
    matches = matches.filter((d) => values.includes(d[field] ?? ''));
  }
  return matches.slice(page.offset, page.offset + page.count);
}
