/** GET [base]/metadata → the CapabilityStatement (FHIR R4 http §3.1.0.11); answered without a token. */
import type { RouterContext } from '@koa/router';
import type { CapabilityStatement, CapabilityStatementRest, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { allSearchParameters } from '../definitions.js';
import { isAppendOnly, isServerWritten, RESOURCE_TYPES } from '../resource-types.js';
import { fhirBaseUrl } from '../store/context.js';
import { sendJson } from './respond.js';

const SEARCH_RESULT_PARAMS = ['_count', '_offset', '_sort', '_total', '_include', '_revinclude', '_summary'];

type InteractionCode = NonNullable<CapabilityStatementRestResource['interaction']>[number]['code'];
const INTERACTIONS: InteractionCode[] = [
  'create',
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history-instance',
  'search-type',
];
const APPEND_ONLY_INTERACTIONS = INTERACTIONS.filter((code) => !['update', 'patch', 'delete'].includes(code));
const READ_ONLY_INTERACTIONS = APPEND_ONLY_INTERACTIONS.filter((code) => code !== 'create');

let cached: Omit<CapabilityStatement, 'implementation'> | undefined;

/** What another domain adds to the statement (its operations, extensions), applied when it is built. */
export type CapabilityContribution = (rest: CapabilityStatementRest) => void;
const contributions = new Set<CapabilityContribution>();

export function contributeCapabilities(contribution: CapabilityContribution): void {
  if (contributions.has(contribution)) return;
  contributions.add(contribution);
  cached = undefined;
}

export function capabilityStatement(fhirBase: string): CapabilityStatement {
  cached ??= build();
  const oauthBase = fhirBase.replace(/\/fhir\/R4$/, '');
  return {
    ...cached,
    implementation: { description: 'Hookbot FHIR R4 store', url: fhirBase },
    rest: (cached.rest ?? []).map((rest) => ({
      ...rest,
      security: {
        service: [
          {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' },
            ],
          },
        ],
        extension: [
          {
            url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
            extension: [{ url: 'token', valueUri: `${oauthBase}/oauth2/token` }],
          },
        ],
      },
    })),
  };
}

function build(): Omit<CapabilityStatement, 'implementation'> {
  const resource: CapabilityStatementRestResource[] = RESOURCE_TYPES.map((type) => ({
    type,
    versioning: 'versioned',
    readHistory: true,
    updateCreate: !isAppendOnly(type) && !isServerWritten(type),
    // If-None-Exist, PUT and DELETE [type]?search (rest/conditional.ts).
    conditionalCreate: !isServerWritten(type),
    conditionalUpdate: !isAppendOnly(type) && !isServerWritten(type),
    conditionalDelete: isAppendOnly(type) || isServerWritten(type) ? 'not-supported' : 'single',
    interaction: (isServerWritten(type)
      ? READ_ONLY_INTERACTIONS
      : isAppendOnly(type)
        ? APPEND_ONLY_INTERACTIONS
        : INTERACTIONS
    ).map((code) => ({ code })),
    searchParam: allSearchParameters(type)
      .filter((p) => p.type !== 'composite' && p.type !== 'special' && p.code !== '_compartment')
      .map((p) => ({
        name: p.code ?? '',
        type: p.type ?? 'string',
        ...(p.url ? { definition: p.url } : {}),
      })),
    searchInclude: allSearchParameters(type)
      .filter((p) => p.type === 'reference')
      .map((p) => `${type}:${p.code}`),
  }));
  const rest: CapabilityStatementRest = {
    mode: 'server',
    resource,
    interaction: [{ code: 'transaction' }, { code: 'batch' }],
    searchParam: SEARCH_RESULT_PARAMS.map((name) => ({ name, type: 'special' })),
  };
  for (const contribute of contributions) contribute(rest);
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Hookbot' },
    fhirVersion: '4.0.1',
    format: ['json', 'application/fhir+json'],
    patchFormat: ['application/json-patch+json'],
    rest: [rest],
  };
}

export function metadataHandler(ctx: RouterContext): void {
  sendJson(ctx, capabilityStatement(fhirBaseUrl(ctx.state.baseUrl || ctx.origin)));
}
