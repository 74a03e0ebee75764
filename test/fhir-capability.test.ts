/**
 * The CapabilityStatement against the server it describes, through HTTP: every interaction and operation it
 * declares is served (an HTTP call reaches its handler), the standard ones it does not declare are refused, every
 * /fhir/R4 route of the route table is declared, and its features (conditional operations, patch formats,
 * result parameters, security) hold. A route or a feature added without the statement following fails here.
 */
import type {
  Bundle,
  CapabilityStatement,
  CapabilityStatementRestResource,
  OperationDefinition,
  Resource,
} from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request, type JsonResponse } from './support/http.js';
import { ROUTE_TABLE } from './support/route-table.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
let token: string;
let fhir: string;
let statement: CapabilityStatement;
let botId: string;

type Rest = NonNullable<CapabilityStatement['rest']>[number];
const rest = (): Rest => statement.rest?.[0] as Rest;
const resourceOf = (type: string) => rest().resource?.find((r) => r.type === type);
const declares = (type: string, code: string) => resourceOf(type)?.interaction?.some((i) => i.code === code) ?? false;

const call = (
  method: string,
  path: string,
  init: { json?: unknown; body?: string; headers?: Record<string, string> } = {},
) => request(`${fhir}${path}`, { method, token, ...init });

/** The Hookbot error code of an OperationOutcome answer. */
function errorCode(res: JsonResponse): string | undefined {
  const issue = (res.body as { issue?: { details?: { coding?: { code?: string }[] } }[] }).issue?.[0];
  return issue?.details?.coding?.[0]?.code;
}

/** Answers that say "this server does not do that here", as opposed to a handler refusing the request's content. */
const REFUSALS = new Set([
  'route.not-found',
  'request.method-not-allowed',
  'request.method-not-implemented',
  'request.unsupported-media-type',
  'fhir.append-only',
  'fhir.unsupported-type',
  'fhir.invalid-id',
  'pas.claim-response-read-only',
]);
/** A handler of the interaction or operation ran: a success, or its own answer about the request's content. */
const reached = (res: JsonResponse) =>
  res.status < 300 || (res.status < 500 && res.status !== 405 && !REFUSALS.has(errorCode(res) ?? ''));
const describe_ = (res: JsonResponse) => `${res.status} ${errorCode(res) ?? ''}`;

/** A valid resource of each type a client may create (ClaimResponse is the server's; OperationDefinition code's). */
function fixture(type: string, patientId: string): Resource | undefined {
  const patient = { reference: `Patient/${patientId}` };
  const concept = { coding: [{ system: 'http://example.org', code: 'x' }] };
  const bodies: Record<string, Record<string, unknown>> = {
    Bot: { name: 'capability probe' },
    Patient: { name: [{ family: 'Probe' }] },
    Coverage: { status: 'active', beneficiary: patient, payor: [{ reference: 'Organization/payer' }] },
    Organization: { name: 'Probe org' },
    Practitioner: { name: [{ family: 'Probe' }] },
    PractitionerRole: { active: true },
    ServiceRequest: { status: 'active', intent: 'order', subject: patient },
    MedicationRequest: { status: 'active', intent: 'order', subject: patient, medicationCodeableConcept: concept },
    DeviceRequest: { status: 'active', intent: 'order', subject: patient, codeCodeableConcept: concept },
    Appointment: { status: 'proposed', participant: [{ status: 'needs-action', actor: patient }] },
    Encounter: {
      status: 'planned',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    },
    Claim: {
      status: 'active',
      type: concept,
      use: 'preauthorization',
      patient,
      created: '2026-01-01',
      provider: { reference: 'Organization/provider' },
      priority: concept,
      insurance: [{ sequence: 1, focal: true, coverage: { reference: 'Coverage/c' } }],
    },
    ExplanationOfBenefit: {
      status: 'active',
      type: concept,
      use: 'claim',
      patient,
      created: '2026-01-01',
      insurer: { reference: 'Organization/payer' },
      provider: { reference: 'Organization/provider' },
      outcome: 'complete',
      insurance: [{ focal: true, coverage: { reference: 'Coverage/c' } }],
    },
    Questionnaire: { status: 'active' },
    QuestionnaireResponse: { status: 'completed' },
    Subscription: {
      status: 'off',
      reason: 'probe',
      criteria: 'Patient?name=probe',
      channel: { type: 'rest-hook', endpoint: 'https://example.org/hook' },
    },
    AuditEvent: {
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110100' },
      recorded: '2026-01-01T00:00:00Z',
      agent: [{ requestor: true, who: { display: 'probe' } }],
      source: { observer: { display: 'probe' } },
    },
    Binary: { contentType: 'text/plain', data: 'cHJvYmU=' },
  };
  const body = bodies[type];
  return body ? ({ resourceType: type, ...body } as Resource) : undefined;
}

/** An existing resource of the type to probe instance interactions on (created once), or a missing id. */
const existing = new Map<string, Resource>();
let patientId = '';

beforeAll(async () => {
  t = await startTestServer();
  fhir = `${t.url}/fhir/R4`;
  token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  statement = (await request<CapabilityStatement>(`${fhir}/metadata`)).body;
  const patient = await call('POST', '/Patient', { json: fixture('Patient', '') });
  expect(patient.status).toBe(201);
  patientId = String(patient.body.id);
  for (const r of rest().resource ?? []) {
    const body = r.type === 'Patient' ? undefined : fixture(r.type, patientId);
    // Through PUT: a type's POST may be an operation's (a PAS Subscription), probed below on its own.
    const id = `probe-${r.type.toLowerCase()}`;
    const created =
      body && declares(r.type, 'update') ? await call('PUT', `/${r.type}/${id}`, { json: { ...body, id } }) : undefined;
    if (created) expect([created.status, r.type, created.body]).toEqual([201, r.type, expect.anything()]);
    if (created) existing.set(r.type, created.body as unknown as Resource);
  }
  existing.set('Patient', patient.body as unknown as Resource);
  // The interaction probes delete the probe Bot: operations run on a Bot of their own.
  const bot = await call('POST', '/Bot', { json: fixture('Bot', patientId) });
  botId = String(bot.body.id);
});
afterAll(async () => t?.stop());

/** The standard type interactions (CapabilityStatement TypeRestfulInteraction), each as an HTTP call. */
const TYPE_INTERACTIONS: Record<string, (type: string, r: Resource | undefined) => Promise<JsonResponse>> = {
  read: (type, r) => call('GET', `/${type}/${r?.id ?? 'missing'}`),
  vread: (type, r) => call('GET', `/${type}/${r?.id ?? 'missing'}/_history/${r?.meta?.versionId ?? '1'}`),
  'history-instance': (type, r) => call('GET', `/${type}/${r?.id ?? 'missing'}/_history`),
  'history-type': (type) => call('GET', `/${type}/_history`),
  'search-type': (type) => call('GET', `/${type}?_count=1`),
  create: (type) => call('POST', `/${type}`, { json: fixture(type, patientId) ?? { resourceType: type } }),
  update: (type, r) =>
    call('PUT', `/${type}/${r?.id ?? 'missing'}`, { json: r ?? { resourceType: type, id: 'missing' } }),
  patch: (type, r) =>
    call('PATCH', `/${type}/${r?.id ?? 'missing'}`, {
      body: JSON.stringify([{ op: 'add', path: '/language', value: 'en' }]),
      headers: { 'Content-Type': 'application/json-patch+json' },
    }),
  delete: (type, r) => call('DELETE', `/${type}/${r?.id ?? 'missing'}`),
};

describe('the CapabilityStatement', () => {
  it('is served without a token, built once', async () => {
    const again = await request<CapabilityStatement>(`${fhir}/metadata`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(statement);
    expect(statement).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance' });
  });

  it('declares only interactions that are served, and every standard one it does not declare is refused', async () => {
    const failures: string[] = [];
    for (const r of rest().resource ?? []) {
      // Deletes last: the other probes need the resource.
      for (const code of [...Object.keys(TYPE_INTERACTIONS).filter((c) => c !== 'delete'), 'delete']) {
        const probe = TYPE_INTERACTIONS[code] as (typeof TYPE_INTERACTIONS)['read'];
        const resource = existing.get(r.type);
        const res = await probe(r.type, resource);
        const declared = declares(r.type, code);
        // With a resource of the type the interaction must succeed; without one (ClaimResponse, written by the
        // server alone), reaching the handler (a 404 for the missing id, a 400 for the content) proves the route.
        const onMissing = !resource && !['history-type', 'search-type', 'create'].includes(code);
        const ok = declared ? (code === 'create' || onMissing ? reached(res) : res.status < 300) : res.status >= 400;
        if (!ok) failures.push(`${code} ${r.type} (${declared ? 'declared' : 'not declared'}): ${describe_(res)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('declares the system interactions that are served, and refuses the others', async () => {
    const empty = (type: string) => ({ json: { resourceType: 'Bundle', type, entry: [] } });
    const probes: Record<string, () => Promise<JsonResponse>> = {
      transaction: () => call('POST', '', empty('transaction')),
      batch: () => call('POST', '', empty('batch')),
      'search-system': () => call('GET', '?_count=1'),
      'history-system': () => call('GET', '/_history'),
    };
    const declared: string[] = (rest().interaction ?? []).map((i) => i.code);
    for (const [code, probe] of Object.entries(probes)) {
      const res = await probe();
      expect([code, res.status < 300], describe_(res)).toEqual([code, declared.includes(code)]);
    }
  });

  it('declares every /fhir/R4 route of the route table', async () => {
    const missing: string[] = [];
    const operations = (await request<Bundle<OperationDefinition>>(`${fhir}/OperationDefinition`)).body.entry?.map(
      (e) => e.resource as OperationDefinition,
    );
    const operationDeclared = (code: string, level: 'system' | 'type' | 'instance', type?: string) => {
      const listed = type ? resourceOf(type)?.operation : rest().operation;
      const definitions = (listed ?? [])
        .filter((o) => o.name === code)
        .map((o) => operations?.find((d) => d.url === o.definition));
      return definitions.some((d) => d?.[level] === true && (!type || d.resource?.includes(type as never)));
    };
    for (const key of Object.keys(ROUTE_TABLE)) {
      const [method = '', path = ''] = key.split(' ');
      if (method === 'ALL' || (path !== '/fhir/R4' && !path.startsWith('/fhir/R4/'))) continue;
      const segments = path === '/fhir/R4/' ? [] : path.slice('/fhir/R4'.length).split('/').slice(1);
      const [first = '', second, third] = segments;
      const last = segments.at(-1) ?? '';
      const types = first === ':type' ? ['Patient'] : [first];
      let ok: boolean;
      if (segments.length === 0)
        ok = method === 'POST' && ['transaction', 'batch'].every((c) => rest().interaction?.some((i) => i.code === c));
      else if (first === 'metadata') ok = true;
      else if (first === '.well-known')
        ok = rest().security?.description?.includes(`${fhir}/.well-known/smart-configuration`) ?? false;
      else if (first.startsWith('$') && segments.length === 1) ok = operationDeclared(first.slice(1), 'system');
      else if (first.startsWith('$'))
        ok = (rest().operation ?? []).some((o) => first.slice(1).startsWith(`${o.name}-`));
      else if (last.startsWith('$'))
        ok = operationDeclared(last.slice(1), segments.length === 2 ? 'type' : 'instance', first);
      else if (first === '_history') ok = rest().interaction?.some((i) => i.code === 'history-system') ?? false;
      else {
        const code =
          segments.length === 1
            ? { GET: 'search-type', POST: 'create', PUT: 'conditionalUpdate', DELETE: 'conditionalDelete' }[method]
            : second === '_search'
              ? 'search-type'
              : second === '_history'
                ? 'history-type'
                : segments.length === 2
                  ? { GET: 'read', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method]
                  : third === '_history'
                    ? segments.length === 3
                      ? 'history-instance'
                      : 'vread'
                    : undefined;
        ok = types.every((type) => {
          const r = resourceOf(type) as CapabilityStatementRestResource | undefined;
          if (code === 'conditionalUpdate') return r?.conditionalUpdate === true;
          if (code === 'conditionalDelete')
            return r?.conditionalDelete === 'single' || r?.conditionalDelete === 'multiple';
          return code !== undefined && declares(type, code);
        });
      }
      if (!ok) missing.push(key);
    }
    expect(missing).toEqual([]);
  });

  it('declares only operations that are served, each with its OperationDefinition', async () => {
    const failures: string[] = [];
    const listed = [
      ...(rest().operation ?? []).map((o) => ({ type: undefined as string | undefined, ...o })),
      ...(rest().resource ?? []).flatMap((r) => (r.operation ?? []).map((o) => ({ type: r.type as string, ...o }))),
    ];
    expect(listed.map((o) => o.name)).toEqual(
      expect.arrayContaining(['deploy', 'execute', 'rollback', 'deploy-rules', 'test-rules', 'bind-pas', 'submit']),
    );
    expect(listed.map((o) => o.name)).toEqual(
      expect.arrayContaining(['inquire', 'submit-attachment', 'pas-callback', 'decide', 'status']),
    );
    for (const { name, definition, type } of listed) {
      const found = await request<Bundle<OperationDefinition>>(
        `${fhir}/OperationDefinition?url=${encodeURIComponent(definition ?? '')}`,
      );
      const def = found.body.entry?.[0]?.resource;
      if (!def || found.body.entry?.length !== 1 || def.code !== name) {
        failures.push(`${name}: no OperationDefinition ${definition}`);
        continue;
      }
      expect((await request(`${fhir}/OperationDefinition/${def.id}`)).body).toEqual(def);
      const levels = (['system', 'type', 'instance'] as const).filter((level) => def[level]);
      for (const level of levels) {
        const id = type === 'Bot' ? botId : 'missing';
        const path =
          level === 'system' ? `/$${name}` : level === 'type' ? `/${type}/$${name}` : `/${type}/${id}/$${name}`;
        let res = await call('POST', path, { json: {} });
        if (res.status === 405) res = await call('GET', path);
        if (!reached(res)) failures.push(`${level} ${path}: ${describe_(res)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses operations it does not declare', async () => {
    for (const path of [
      '/Patient/$deploy',
      '/$deploy',
      '/Patient/$everything',
      `/Bot/${botId}/$everything`,
      '/$export-poll',
    ]) {
      const res = await call('POST', path, { json: {} });
      expect([path, res.status >= 400]).toEqual([path, true]);
      const res2 = await call('GET', path);
      expect([path, res2.status >= 400]).toEqual([path, true]);
    }
  });

  it('holds to its conditional operations, versioning and patch formats', async () => {
    const patient = rest().resource?.find((r) => r.type === 'Patient') as CapabilityStatementRestResource;
    const created = await call('POST', '/Patient', {
      json: { resourceType: 'Patient', name: [{ family: 'Conditional' }] },
    });
    const id = String(created.body.id);
    const again = await call('POST', '/Patient', {
      json: { resourceType: 'Patient' },
      headers: { 'If-None-Exist': `_id=${id}` },
    });
    expect(again.status === 200 && again.body.id === id).toBe(patient.conditionalCreate);
    const read = await call('GET', `/Patient/${id}`, { headers: { 'If-None-Match': 'W/"1"' } });
    expect(read.status === 304).toBe(['not-match', 'full-support'].includes(patient.conditionalRead ?? ''));
    const since = await call('GET', `/Patient/${id}`, {
      headers: { 'If-Modified-Since': new Date(Date.now() + 60_000).toUTCString() },
    });
    expect(since.status === 304).toBe(['modified-since', 'full-support'].includes(patient.conditionalRead ?? ''));
    const stale = await call('PUT', `/Patient/${id}`, {
      json: { resourceType: 'Patient', id },
      headers: { 'If-Match': 'W/"99"' },
    });
    expect(stale.status === 412).toBe(patient.versioning === 'versioned-update');
    const conditionalUpdate = await call('PUT', `/Patient?_id=${id}`, { json: { resourceType: 'Patient', id } });
    expect(conditionalUpdate.status === 200).toBe(patient.conditionalUpdate);
    const upsert = await call('PUT', '/Patient/capability-new', {
      json: { resourceType: 'Patient', id: 'capability-new' },
    });
    expect(upsert.status === 201).toBe(patient.updateCreate);
    const conditionalDelete = await call('DELETE', `/Patient?_id=${id}`);
    expect(conditionalDelete.status === 204).toBe(patient.conditionalDelete === 'single');
    // Each format patches an Organization of its own: both add `active`, which a FHIRPath add refuses to overwrite.
    const bodies: Record<string, string> = {
      'application/json-patch+json': JSON.stringify([{ op: 'add', path: '/active', value: true }]),
      'application/fhir+json': JSON.stringify({
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'operation',
            part: [
              { name: 'type', valueCode: 'add' },
              { name: 'path', valueString: 'Organization' },
              { name: 'name', valueString: 'active' },
              { name: 'value', valueBoolean: true },
            ],
          },
        ],
      }),
    };
    for (const [type, body] of Object.entries(bodies)) {
      const organization = await call('POST', '/Organization', { json: fixture('Organization', patientId) });
      const target = String(organization.body.id);
      const res = await call('PATCH', `/Organization/${target}`, { body, headers: { 'Content-Type': type } });
      expect([type, res.status === 200]).toEqual([type, statement.patchFormat?.includes(type) ?? false]);
    }
  });

  it('declares the result parameters the search takes, and no other standard one', async () => {
    const samples: Record<string, string> = {
      _count: '1',
      _offset: '0',
      _sort: '-_lastUpdated',
      _total: 'accurate',
      _summary: 'count',
      _elements: 'id',
      _include: 'Coverage:beneficiary',
      _revinclude: 'ExplanationOfBenefit:coverage',
      _contained: 'true',
      _containedType: 'container',
    };
    const declared = (rest().searchParam ?? []).map((p) => p.name);
    for (const [name, value] of Object.entries(samples)) {
      const res = await call('GET', `/Coverage?${name}=${value}`);
      expect([name, res.status === 200]).toEqual([name, declared.includes(name)]);
    }
  });

  it("declares search parameters that work: every one of Patient's and ExplanationOfBenefit's", async () => {
    for (const type of ['Patient', 'ExplanationOfBenefit']) {
      for (const { name } of resourceOf(type)?.searchParam ?? []) {
        const res = await call('GET', `/${type}?${name}:missing=true&_count=1`);
        expect([type, name, res.status]).toEqual([type, name, 200]);
      }
      for (const include of resourceOf(type)?.searchInclude ?? []) {
        const res = await call('GET', `/${type}?_include=${include}&_count=1`);
        expect([include, res.status]).toEqual([include, 200]);
      }
    }
  });

  it('states JSON as its only format and never answers XML', async () => {
    expect(statement.format).toEqual(['json', 'application/fhir+json']);
    const res = await fetch(`${fhir}/Patient/${patientId}`, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+xml' },
    });
    expect(res.headers.get('content-type') ?? '').not.toContain('xml');
  });

  it('names the OAuth endpoints the server serves and the SMART configuration', async () => {
    const security = rest().security;
    expect(security?.service?.[0]?.coding?.[0]?.code).toBe('SMART-on-FHIR');
    const smart = (await request<Record<string, string>>(`${fhir}/.well-known/smart-configuration`)).body;
    const uris = Object.fromEntries(
      (security?.extension?.[0]?.extension ?? []).map((e) => [e.url, e.valueUri as string]),
    );
    expect(uris).toEqual({
      token: smart.token_endpoint,
      authorize: smart.authorization_endpoint,
      introspect: smart.introspection_endpoint,
      revoke: smart.revocation_endpoint,
    });
    for (const url of Object.values(uris)) {
      const res = await request(url, { method: url.endsWith('/authorize') ? 'GET' : 'POST' });
      expect([url, res.status === 404 || res.status === 405]).toEqual([url, false]);
    }
    // Browsers may call the FHIR API (CORS), as declared.
    const preflight = await fetch(`${fhir}/Patient`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin') === 'https://app.example').toBe(security?.cors);
  });
});

describe('OperationDefinition', () => {
  it('lists and reads the definitions, without a token and the same for every project', async () => {
    const list = await request<Bundle<OperationDefinition>>(`${fhir}/OperationDefinition`);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    const ids = list.body.entry?.map((e) => e.resource?.id);
    expect(ids).toEqual(expect.arrayContaining(['Bot-deploy', 'Bot-execute', 'Claim-submit', 'submit-attachment']));
    const read = await request<OperationDefinition>(`${fhir}/OperationDefinition/Bot-deploy`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ resourceType: 'OperationDefinition', code: 'deploy', kind: 'operation' });
    const byCode = await request<Bundle>(`${fhir}/OperationDefinition?code=submit`);
    expect(byCode.body.entry?.map((e) => e.resource?.id)).toEqual(['Claim-submit']);
    expect((await request(`${fhir}/OperationDefinition?name=x`)).status).toBe(400);
    const missing = await request(`${fhir}/OperationDefinition/nothing`);
    expect([missing.status, (missing.body as unknown as Resource).resourceType]).toEqual([404, 'OperationOutcome']);
  });

  it('is never written: 405 with Allow and an OperationOutcome', async () => {
    for (const [method, path] of [
      ['POST', '/OperationDefinition'],
      ['PUT', '/OperationDefinition/Bot-deploy'],
      ['DELETE', '/OperationDefinition/Bot-deploy'],
      ['PATCH', '/OperationDefinition/Bot-deploy'],
    ] as const) {
      const res = await call(method, path, { json: { resourceType: 'OperationDefinition', id: 'Bot-deploy' } });
      expect([
        method,
        path,
        res.status,
        res.headers.get('allow'),
        (res.body as unknown as Resource).resourceType,
      ]).toEqual([method, path, 405, 'GET, HEAD', 'OperationOutcome']);
    }
    expect((await request(`${fhir}/OperationDefinition/Bot-deploy`)).status).toBe(200);
  });
});
