/** GET [base]/metadata → the CapabilityStatement (FHIR R4 http §3.1.0.11); answered without a token. */
import type { RouterContext } from '@koa/router';
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { allSearchParameters } from '../definitions.js';
import { isAppendOnly, RESOURCE_TYPES } from '../resource-types.js';
import { fhirBaseUrl } from '../store/context.js';
import { sendJson } from './respond.js';

const SEARCH_RESULT_PARAMS = ['_count', '_offset', '_sort', '_total', '_include', '_revinclude', '_summary'];

type InteractionCode = NonNullable<CapabilityStatementRestResource['interaction']>[number]['code'];
const INTERACTIONS: InteractionCode[] = [
  'create',
  'read',
  'vread',
  'update',
  'delete',
  'history-instance',
  'search-type',
];
const APPEND_ONLY_INTERACTIONS = INTERACTIONS.filter((code) => code !== 'update' && code !== 'delete');

let cached: Omit<CapabilityStatement, 'implementation'> | undefined;

function capabilityStatement(fhirBase: string): CapabilityStatement {
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
    updateCreate: !isAppendOnly(type),
    interaction: (isAppendOnly(type) ? APPEND_ONLY_INTERACTIONS : INTERACTIONS).map((code) => ({ code })),
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
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Hookbot' },
    fhirVersion: '4.0.1',
    format: ['json', 'application/fhir+json'],
    rest: [{ mode: 'server', resource, searchParam: SEARCH_RESULT_PARAMS.map((name) => ({ name, type: 'special' })) }],
  };
}

export function metadataHandler(ctx: RouterContext): void {
  sendJson(ctx, capabilityStatement(fhirBaseUrl(ctx.state.baseUrl || ctx.origin)));
}
