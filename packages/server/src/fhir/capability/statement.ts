/**
 * The CapabilityStatement (FHIR R4 §2.38), built from what the server does, never from a hand list: the interactions
 * and operations from the routes the app serves (`served-routes.ts`), the operations' definitions from the domains
 * that implement them, search parameters from the definitions the parser accepts (`search/parse.ts`), and the
 * features of each handler from the flags its module exports. Built once per app, on first use.
 */
import type {
  CapabilityStatement,
  CapabilityStatementRest,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceOperation,
  OperationDefinition,
} from '@medplum/fhirtypes';
import { allSearchParameters } from '../definitions.js';
import { isAppendOnly, isServerWritten, isSupportedResourceType, RESOURCE_TYPES } from '../resource-types.js';
import { BUNDLE_TYPES } from '../rest/bundle.js';
import { CONDITIONAL_CAPABILITIES } from '../rest/conditional.js';
import { PATCH_FORMATS } from '../rest/patch.js';
import { CONDITIONAL_READ } from '../rest/read.js';
import { UPDATE_CAPABILITIES } from '../rest/update.js';
import { isSearchable, RESULT_PARAMETERS } from '../search/parse.js';
import { OPERATION_DEFINITION_SEARCH } from './operation-definitions.js';
import {
  ANY_TYPE,
  meaningOf,
  type RouteMeaning,
  type ServedRoute,
  type SystemInteraction,
  type TypeInteraction,
} from './served-routes.js';

/** What another domain adds to the statement that no route says (an extension), applied when it is built. */
export type CapabilityContribution = (rest: CapabilityStatementRest) => void;

export interface CapabilitySources {
  /** `[base]`, `…/fhir/R4`. */
  fhirBase: string;
  routes: ServedRoute[];
  /** Every OperationDefinition the domains ship; those a route implements are listed and served. */
  operations: OperationDefinition[];
  security: {
    /** The SMART configuration document clients discover the endpoints from. */
    smartConfiguration: string;
    tokenEndpoint: string;
    authorizationEndpoint?: string;
    introspectionEndpoint?: string;
    revocationEndpoint?: string;
    /** Whether browsers may call the FHIR API (CORS). */
    cors: boolean;
  };
  contributions?: CapabilityContribution[];
}

export interface Capabilities {
  statement: CapabilityStatement;
  /** The definitions of the operations some route implements (`GET OperationDefinition[/id]`). */
  operationDefinitions: OperationDefinition[];
  /** Routes the statement cannot describe: an operation without its definition, a path of no FHIR shape. */
  undescribed: ServedRoute[];
}

/** FHIR R4's order of type interactions (CapabilityStatement `TypeRestfulInteraction`). */
const TYPE_INTERACTIONS: TypeInteraction[] = [
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history-instance',
  'history-type',
  'create',
  'search-type',
];
const WRITES = new Set(['update', 'patch', 'delete', 'conditional-update', 'conditional-delete']);

/**
 * What the store's own handlers refuse for a type whatever the route (`store/context.ts` `authorize`): append-only
 * types are never updated or deleted, server-written ones never written by a client.
 */
function refusedByStore(type: string, interaction: string): boolean {
  if (isServerWritten(type)) return interaction === 'create' || WRITES.has(interaction);
  return isAppendOnly(type) && WRITES.has(interaction);
}

/** Lazily built, once: `sources` is read on first use, when every router of the app exists. */
export function lazyCapabilities(sources: () => CapabilitySources): () => Capabilities {
  let built: Capabilities | undefined;
  return () => (built ??= buildCapabilities(sources()));
}

export function buildCapabilities(sources: CapabilitySources): Capabilities {
  const undescribed: ServedRoute[] = [];
  const byType = new Map<string, Set<string>>();
  const system = new Set<string>();
  const operations: { meaning: RouteMeaning & { kind: 'operation' }; route: ServedRoute }[] = [];
  const support: { code: string; route: ServedRoute }[] = [];

  const add = (type: string, interaction: string, generic: boolean) => {
    // A generic route serves the store's types, each within what the store does for it.
    if (generic && (!isSupportedResourceType(type) || refusedByStore(type, interaction))) return;
    const set = byType.get(type) ?? new Set<string>();
    set.add(interaction);
    byType.set(type, set);
  };
  for (const route of sources.routes) {
    const meaning = meaningOf(route);
    switch (meaning.kind) {
      case 'type':
        for (const type of meaning.type === ANY_TYPE ? RESOURCE_TYPES : [meaning.type]) {
          add(type, meaning.interaction, meaning.type === ANY_TYPE);
        }
        break;
      case 'system':
        for (const code of meaning.interaction === 'bundle' ? BUNDLE_TYPES : [meaning.interaction]) system.add(code);
        break;
      case 'operation':
        operations.push({ meaning, route });
        break;
      case 'operation-support':
        support.push({ code: meaning.code, route });
        break;
      case 'capabilities':
      case 'discovery':
        break;
      case 'unknown':
        undescribed.push(route);
    }
  }

  // Each operation route → its definition (code, level, type); the definition lists the route's type.
  const used = new Map<OperationDefinition, Set<string>>();
  for (const { meaning, route } of operations) {
    const types = meaning.type === ANY_TYPE ? [...RESOURCE_TYPES] : meaning.type ? [meaning.type] : [];
    const definition = sources.operations.find(
      (d) =>
        d.code === meaning.code &&
        (meaning.level === 'system' ? d.system : meaning.level === 'type' ? d.type : d.instance) &&
        (meaning.level === 'system' || types.every((t) => d.resource?.includes(t as never))),
    );
    if (!definition) {
      undescribed.push(route);
      continue;
    }
    const on = used.get(definition) ?? new Set<string>();
    for (const type of meaning.level === 'system' ? [''] : types) on.add(type);
    used.set(definition, on);
  }
  const codes = [...used.keys()].map((d) => d.code ?? '');
  for (const { code, route } of support) {
    if (!codes.some((c) => code === c || code.startsWith(`${c}-`))) undescribed.push(route);
  }
  const operationsOf = (type: string): CapabilityStatementRestResourceOperation[] =>
    [...used]
      .filter(([, types]) => types.has(type))
      .map(([d]) => ({ name: d.code ?? '', definition: d.url ?? '' }))
      .filter((o, i, all) => all.findIndex((x) => x.name === o.name) === i);

  const types = [...new Set([...RESOURCE_TYPES, ...byType.keys(), ...[...used.values()].flatMap((t) => [...t])])];
  const resource = types
    .filter((type) => type !== '' && (byType.has(type) || operationsOf(type).length > 0))
    .map((type) => resourceCapability(type, byType.get(type) ?? new Set(), operationsOf(type), types));

  const rest: CapabilityStatementRest = {
    mode: 'server',
    documentation:
      'JSON only (application/fhir+json). Every request needs an OAuth 2.0 bearer token but metadata, ' +
      'OperationDefinition and .well-known/smart-configuration.',
    security: security(sources.security),
    resource,
    interaction: (['transaction', 'batch', 'search-system', 'history-system'] as SystemInteraction[])
      .filter((code) => system.has(code))
      .map((code) => ({ code })),
    searchParam: RESULT_PARAMETERS.map(({ name, type, documentation }) => ({ name, type, documentation })),
    ...(operationsOf('').length > 0 ? { operation: operationsOf('') } : {}),
  };
  for (const contribute of sources.contributions ?? []) contribute(rest);
  const statement: CapabilityStatement = {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'Hookbot',
    kind: 'instance',
    software: { name: 'Hookbot' },
    implementation: { description: 'Hookbot FHIR R4 store', url: sources.fhirBase },
    fhirVersion: '4.0.1',
    // No XML: `_format` and `Accept` asking for anything but JSON are not served as XML.
    format: ['json', 'application/fhir+json'],
    ...([...byType.values()].some((s) => s.has('patch')) ? { patchFormat: [...PATCH_FORMATS] } : {}),
    rest: [rest],
  };
  return { statement, operationDefinitions: [...used.keys()], undescribed };
}

function resourceCapability(
  type: string,
  served: Set<string>,
  operation: CapabilityStatementRestResourceOperation[],
  allTypes: string[],
): CapabilityStatementRestResource {
  const stored = isSupportedResourceType(type);
  const searchable = served.has('search-type');
  const params = stored ? allSearchParameters(type).filter(isSearchable) : [];
  return {
    type: type as CapabilityStatementRestResource['type'],
    interaction: TYPE_INTERACTIONS.filter((code) => served.has(code)).map((code) => ({ code })),
    ...(stored
      ? {
          versioning: served.has('update') && UPDATE_CAPABILITIES.versionAware ? 'versioned-update' : 'versioned',
          readHistory: served.has('vread'),
          updateCreate: served.has('update') && UPDATE_CAPABILITIES.updateCreate,
          conditionalCreate: served.has('create') && CONDITIONAL_CAPABILITIES.create,
          conditionalRead: served.has('read') ? CONDITIONAL_READ : 'not-supported',
          conditionalUpdate: served.has('conditional-update'),
          conditionalDelete: served.has('conditional-delete') ? CONDITIONAL_CAPABILITIES.delete : 'not-supported',
        }
      : { versioning: 'no-version', readHistory: false, updateCreate: false }),
    ...(searchable && stored
      ? {
          searchInclude: [
            `${type}:*`,
            ...params.filter((p) => p.type === 'reference').map((p) => `${type}:${p.code ?? ''}`),
          ],
          searchRevInclude: revIncludes(type, allTypes),
          searchParam: params.map((p) => ({
            name: p.code ?? '',
            type: p.type ?? 'string',
            ...(p.url ? { definition: p.url } : {}),
          })),
        }
      : {}),
    ...(searchable && type === 'OperationDefinition'
      ? { searchParam: OPERATION_DEFINITION_SEARCH.map(({ name, type: t }) => ({ name, type: t })) }
      : {}),
    ...(operation.length > 0 ? { operation } : {}),
  };
}

/** `Source:param` for every reference parameter of a stored type that may point at `type`. */
function revIncludes(type: string, allTypes: string[]): string[] {
  return allTypes.filter(isSupportedResourceType).flatMap((source) =>
    allSearchParameters(source)
      .filter((p) => p.type === 'reference' && (!p.target?.length || p.target.includes(type as never)))
      .map((p) => `${source}:${p.code ?? ''}`),
  );
}

function security(s: CapabilitySources['security']): CapabilityStatementRest['security'] {
  const uris = [
    ['token', s.tokenEndpoint],
    ['authorize', s.authorizationEndpoint],
    ['introspect', s.introspectionEndpoint],
    ['revoke', s.revocationEndpoint],
  ].filter((pair): pair is [string, string] => pair[1] !== undefined);
  return {
    cors: s.cors,
    service: [
      {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }],
        text: 'OAuth 2.0 (SMART App Launch and Backend Services)',
      },
    ],
    description: `OAuth 2.0 bearer tokens; endpoints, scopes and capabilities at ${s.smartConfiguration}`,
    extension: [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: uris.map(([url, valueUri]) => ({ url, valueUri })),
      },
    ],
  };
}
