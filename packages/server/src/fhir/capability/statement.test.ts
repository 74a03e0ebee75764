import type { CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createRouter } from '../../infra/router.js';
import { HookbotError } from '../../infra/errors.js';
import { allSearchParameters } from '../definitions.js';
import { RESOURCE_TYPES } from '../resource-types.js';
import { parseSearchRequest, RESULT_PARAMETERS } from '../search/parse.js';
import { BULK_EXPORT_OPERATIONS } from './bulk-export-definitions.js';
import { operationDefinition, searchOperationDefinitions } from './operation-definitions.js';
import { meaningOf, servedRoutes, type ServedRoute } from './served-routes.js';
import { buildCapabilities, type CapabilitySources } from './statement.js';

const route = (key: string): ServedRoute => {
  const [method = '', path = ''] = key.split(' ');
  return { method, path };
};

/** The store's routes as `fhir/routes.ts` registers them, and the Bundle route. */
const STORE = [
  'GET /metadata',
  'POST ',
  'GET /:type',
  'POST /:type',
  'PUT /:type',
  'DELETE /:type',
  'POST /:type/_search',
  'GET /:type/:id/_history/:vid',
  'GET /:type/:id/_history',
  'GET /:type/:id',
  'PUT /:type/:id',
  'PATCH /:type/:id',
  'DELETE /:type/:id',
  'GET /OperationDefinition',
  'GET /OperationDefinition/:id',
];

const EXECUTE = operationDefinition({
  id: 'Bot-execute',
  code: 'execute',
  resource: ['Bot'],
  system: false,
  type: true,
  instance: true,
});

function build(keys: string[], operations = [EXECUTE, ...BULK_EXPORT_OPERATIONS]) {
  const sources: CapabilitySources = {
    fhirBase: 'https://hookbot.example/fhir/R4',
    routes: keys.map(route),
    operations,
    security: {
      smartConfiguration: 'https://hookbot.example/fhir/R4/.well-known/smart-configuration',
      tokenEndpoint: 'https://hookbot.example/oauth2/token',
      cors: true,
    },
  };
  const built = buildCapabilities(sources);
  const rest = built.statement.rest?.[0];
  const of = (type: string) => rest?.resource?.find((r) => r.type === type) as CapabilityStatementRestResource;
  const interactions = (type: string) => of(type)?.interaction?.map((i) => i.code);
  return { ...built, rest, of, interactions };
}

describe('servedRoutes', () => {
  it('reads the method routes under /fhir/R4 from the routers, nested ones included, not the 405 layers', () => {
    const inner = createRouter();
    inner.get('/:type/:id', () => undefined);
    inner.all('/:type/:id', () => undefined);
    const fhir = createRouter('/fhir/R4');
    fhir.use(inner.routes());
    const other = createRouter();
    other.post('/fhir/R4', () => undefined);
    other.post('/oauth2/token', () => undefined);
    expect(servedRoutes([fhir, other])).toEqual([
      { method: 'GET', path: '/:type/:id' },
      { method: 'POST', path: '' },
    ]);
  });
});

describe('meaningOf', () => {
  it('names the interaction or operation of each route shape (FHIR R4 http summary table)', () => {
    const cases: [string, unknown][] = [
      ['POST ', { kind: 'system', interaction: 'bundle' }],
      ['POST /', { kind: 'system', interaction: 'bundle' }],
      ['GET ', { kind: 'system', interaction: 'search-system' }],
      ['GET /_history', { kind: 'system', interaction: 'history-system' }],
      ['GET /metadata', { kind: 'capabilities' }],
      ['GET /.well-known/smart-configuration', { kind: 'discovery' }],
      ['GET /:type', { kind: 'type', type: ':type', interaction: 'search-type' }],
      ['POST /:type/_search', { kind: 'type', type: ':type', interaction: 'search-type' }],
      ['GET /Patient/_history', { kind: 'type', type: 'Patient', interaction: 'history-type' }],
      ['PUT /:type', { kind: 'type', type: ':type', interaction: 'conditional-update' }],
      ['PATCH /:type/:id', { kind: 'type', type: ':type', interaction: 'patch' }],
      ['GET /:type/:id/_history/:vid', { kind: 'type', type: ':type', interaction: 'vread' }],
      ['POST /$submit-attachment', { kind: 'operation', level: 'system', code: 'submit-attachment' }],
      ['POST /Claim/$submit', { kind: 'operation', level: 'type', type: 'Claim', code: 'submit' }],
      ['GET /Bot/:id/$execute', { kind: 'operation', level: 'instance', type: 'Bot', code: 'execute' }],
      ['GET /$export-status/:job', { kind: 'operation-support', code: 'export-status' }],
      ['PATCH /:type', { kind: 'unknown' }],
      ['GET /Bot/:id/extra', { kind: 'unknown' }],
      ['GET /lowercase', { kind: 'unknown' }],
    ];
    for (const [key, meaning] of cases) expect([key, meaningOf(route(key))]).toEqual([key, meaning]);
  });
});

describe('buildCapabilities', () => {
  it("declares each type's interactions from the routes, within what the store does for the type", () => {
    const { interactions, of, rest, undescribed } = build(STORE);
    expect(undescribed).toEqual([]);
    expect(interactions('Patient')).toEqual([
      'read',
      'vread',
      'update',
      'patch',
      'delete',
      'history-instance',
      'create',
      'search-type',
    ]);
    expect(interactions('AuditEvent')).toEqual(['read', 'vread', 'history-instance', 'create', 'search-type']);
    expect(interactions('ClaimResponse')).toEqual(['read', 'vread', 'history-instance', 'search-type']);
    expect(interactions('OperationDefinition')).toEqual(['read', 'search-type']);
    expect(of('Patient')).toMatchObject({
      versioning: 'versioned-update',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: true,
      conditionalUpdate: true,
      conditionalDelete: 'single',
      conditionalRead: 'full-support',
    });
    expect(of('AuditEvent')).toMatchObject({ conditionalUpdate: false, conditionalDelete: 'not-supported' });
    expect(rest?.interaction?.map((i) => i.code)).toEqual(['transaction', 'batch']);
    expect(RESOURCE_TYPES.every((type) => of(type))).toBe(true);
  });

  it('follows routes added later: type and system history, system search', () => {
    const { interactions, rest } = build([...STORE, 'GET /:type/_history', 'GET /_history', 'GET ']);
    expect(interactions('Patient')).toContain('history-type');
    expect(rest?.interaction?.map((i) => i.code)).toEqual(['transaction', 'batch', 'search-system', 'history-system']);
  });

  it('lists an operation with its definition where a route implements it, at that level only', () => {
    const { of, rest, operationDefinitions, undescribed } = build([...STORE, 'POST /Bot/:id/$execute']);
    expect(undescribed).toEqual([]);
    expect(of('Bot').operation).toEqual([{ name: 'execute', definition: EXECUTE.url }]);
    expect(operationDefinitions.map((d) => d.id)).toEqual(['Bot-execute']);
    // The $export definitions ship, but no route serves them here: neither listed nor served.
    expect(rest?.operation).toBeUndefined();
    expect(of('Patient').operation).toBeUndefined();
  });

  it('pairs each $export level with its own definition, and its status URLs with the operation', () => {
    const routes = [
      ...STORE,
      'GET /$export',
      'GET /Patient/$export',
      'GET /Group/:id/$export',
      'GET /$export-status/:job',
    ];
    const { of, interactions, rest, operationDefinitions, undescribed } = build(routes);
    expect(undescribed).toEqual([]);
    expect(rest?.operation).toEqual([
      { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' },
    ]);
    expect(of('Patient').operation?.[0]?.definition).toBe(
      'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export',
    );
    expect(of('Group').operation?.[0]?.definition).toBe(
      'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export',
    );
    // Group is a stored type too: the store's interactions beside its $export.
    expect(interactions('Group')).toEqual(interactions('Patient'));
    expect(operationDefinitions.map((d) => d.id).sort()).toEqual(['export', 'group-export', 'patient-export']);
  });

  it('reports the routes it cannot describe: an operation without a definition, a path of no FHIR shape', () => {
    const { undescribed } = build([...STORE, 'POST /Patient/$everything', 'GET /$thing-status/:id', 'GET /lowercase']);
    expect(undescribed.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /lowercase',
      'POST /Patient/$everything',
      'GET /$thing-status/:id',
    ]);
    // A type-level route is not an instance-level definition's.
    expect(build([...STORE, 'POST /Bot/$execute'], [{ ...EXECUTE, type: false }]).undescribed).toHaveLength(1);
  });

  it('declares only search parameters, result parameters, includes and revincludes the parser accepts', () => {
    const { of, rest } = build(STORE);
    for (const type of RESOURCE_TYPES) {
      const declared = of(type).searchParam ?? [];
      for (const { name } of declared) {
        expect(() => parseSearchRequest(type, { [`${name}:missing`]: 'true' }), `${type}?${name}`).not.toThrow();
      }
      // What the definitions have but the statement does not declare is refused.
      const names = new Set(declared.map((p) => p.name));
      for (const p of allSearchParameters(type).filter((p) => !names.has(p.code ?? ''))) {
        expect(() => parseSearchRequest(type, { [p.code ?? '']: 'x' }), `${type}?${p.code}`).toThrow(HookbotError);
      }
      for (const include of of(type).searchInclude ?? []) {
        expect(() => parseSearchRequest(type, { _include: include }), include).not.toThrow();
      }
      for (const revinclude of of(type).searchRevInclude ?? []) {
        expect(() => parseSearchRequest(type, { _revinclude: revinclude }), revinclude).not.toThrow();
      }
    }
    expect(of('Coverage').searchRevInclude).toContain('ExplanationOfBenefit:coverage');
    expect(of('Patient').searchRevInclude).toContain('Coverage:beneficiary');
    expect(of('Patient').searchRevInclude).not.toContain('ExplanationOfBenefit:coverage');
    expect(rest?.searchParam?.map((p) => p.name)).toEqual(RESULT_PARAMETERS.map((p) => p.name));
  });

  it('states the formats and the security as the server has them', () => {
    const { statement, rest } = build(STORE);
    expect(statement.format).toEqual(['json', 'application/fhir+json']);
    expect(statement.patchFormat).toEqual(['application/json-patch+json', 'application/fhir+json']);
    expect(rest?.security?.cors).toBe(true);
    expect(rest?.security?.extension?.[0]?.extension).toEqual([
      { url: 'token', valueUri: 'https://hookbot.example/oauth2/token' },
    ]);
    expect(rest?.security?.description).toContain('/fhir/R4/.well-known/smart-configuration');
  });
});

describe('searchOperationDefinitions', () => {
  it('filters by _id, url and code (alternatives by comma); other parameters are a 400', () => {
    const all = BULK_EXPORT_OPERATIONS;
    const ids = (q: string) => searchOperationDefinitions(all, new URLSearchParams(q)).map((d) => d.id);
    expect(ids('')).toEqual(['export', 'patient-export', 'group-export']);
    expect(ids('_id=export,group-export')).toEqual(['export', 'group-export']);
    expect(ids('url=http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export')).toEqual(['patient-export']);
    expect(ids('code=export&_id=nothing')).toEqual([]);
    expect(ids('_format=json')).toHaveLength(3);
    expect(ids('_count=1&_offset=1')).toEqual(['patient-export']);
    expect(() => ids('name=x')).toThrow(HookbotError);
    expect(() => ids('_count=x')).toThrow(HookbotError);
    expect(() => ids('_sort=code')).toThrow(HookbotError);
  });
});
