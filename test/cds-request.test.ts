/**
 * CDS Hooks request validation (400 naming the field) and the interoperability tolerances (README, "Tolerated"), over HTTP,
 * with the CRD sample requests of the reference folder. A request, however thin, never causes a 5xx.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './support/http.js';
import {
  detail,
  expressions,
  fhirAuthorization,
  patientView,
  PREFETCHING_SERVICE,
  SCRIPT_BOT,
  seen,
  startCdsHarness,
  waitForAudit,
  type CdsHarness,
} from './support/cds.js';

// The Da Vinci CRD sample requests, kept in the repository beside the validator's tests.
const CRD_REQUESTS = path.join(import.meta.dirname, '../packages/bots/src/cds/__fixtures__/requests');

let h: CdsHarness;
const ids: Record<string, string> = {};
const HOOKS = [
  'patient-view',
  'order-sign',
  'order-select',
  'order-dispatch',
  'appointment-book',
  'encounter-start',
  'encounter-discharge',
];

beforeAll(async () => {
  h = await startCdsHarness();
  for (const hook of HOOKS)
    ids[hook] = await h.deployService({ hook, title: hook, description: `Echo for ${hook}` }, SCRIPT_BOT, hook);
  ids.prefetching = await h.deployService(PREFETCHING_SERVICE, SCRIPT_BOT);
});
afterAll(async () => h?.stop());

const orderSign = (context: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  hook: 'order-sign',
  hookInstance: '2b8a5d1c-3b2a-4a8e-9a51-0f5c2a8e7d10',
  context: {
    userId: 'Practitioner/prac-1',
    patientId: 'pat-a',
    draftOrders: {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'ServiceRequest', id: 'sr-a1', status: 'draft' } }],
    },
    ...context,
  },
  ...extra,
});

describe('request validation: 400 naming the field', () => {
  const cases: [string, string, () => unknown, string][] = [
    ['hook missing', 'patient-view', () => ({ ...patientView(), hook: undefined }), 'hook'],
    ['hook of another service', 'patient-view', () => patientView({ hook: 'order-sign' }), 'hook'],
    ['hook not a string', 'patient-view', () => patientView({ hook: 42 }), 'hook'],
    ['context missing', 'patient-view', () => ({ hook: 'patient-view' }), 'context'],
    ['context not an object', 'patient-view', () => patientView({ context: 'Patient/pat-a' }), 'context'],
    [
      'context.patientId missing',
      'patient-view',
      () => patientView({ context: { userId: 'Practitioner/prac-1' } }),
      'context.patientId',
    ],
    [
      'context.userId missing',
      'patient-view',
      () => patientView({ context: { patientId: 'pat-a' } }),
      'context.userId',
    ],
    [
      'context.patientId not a string',
      'patient-view',
      () => patientView({ context: { userId: 'Practitioner/1', patientId: 7 } }),
      'context.patientId',
    ],
    ['context.draftOrders missing', 'order-sign', () => orderSign({ draftOrders: undefined }), 'context.draftOrders'],
    [
      'context.draftOrders a string',
      'order-sign',
      () => orderSign({ draftOrders: 'MedicationRequest/1' }),
      'context.draftOrders',
    ],
    [
      'context.selections missing',
      'order-select',
      () => ({ ...orderSign(), hook: 'order-select' }),
      'context.selections',
    ],
    [
      'context.appointments missing',
      'appointment-book',
      () => patientView({ hook: 'appointment-book' }),
      'context.appointments',
    ],
    [
      'context.encounterId missing',
      'encounter-start',
      () => patientView({ hook: 'encounter-start' }),
      'context.encounterId',
    ],
    [
      'context.performer missing',
      'order-dispatch',
      () => ({ hook: 'order-dispatch', context: { patientId: 'pat-a', dispatchedOrders: ['ServiceRequest/1'] } }),
      'context.performer',
    ],
    [
      'fhirAuthorization without fhirServer',
      'patient-view',
      () => patientView({ fhirAuthorization: fhirAuthorization('patient/*.read') }),
      'fhirServer',
    ],
    ['fhirServer not a URL', 'patient-view', () => patientView({ fhirServer: 'ehr.example.org/fhir' }), 'fhirServer'],
    [
      'fhirAuthorization not an object',
      'patient-view',
      () => patientView({ fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: 'Bearer x' }),
      'fhirAuthorization',
    ],
    [
      'fhirAuthorization.access_token missing',
      'patient-view',
      () =>
        patientView({
          fhirServer: 'https://ehr.example.org/fhir',
          fhirAuthorization: { token_type: 'Bearer', scope: 'patient/*.read' },
        }),
      'fhirAuthorization.access_token',
    ],
    [
      'fhirAuthorization.token_type not Bearer',
      'patient-view',
      () =>
        patientView({
          fhirServer: 'https://ehr.example.org/fhir',
          fhirAuthorization: { access_token: 'x', token_type: 'MAC' },
        }),
      'fhirAuthorization.token_type',
    ],
    ['prefetch not an object', 'patient-view', () => patientView({ prefetch: ['Patient/pat-a'] }), 'prefetch'],
  ];
  for (const [name, hook, body, field] of cases) {
    it(`${name} → 400 at ${field}`, async () => {
      const res = await h.invoke(ids[hook] as string, body());
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(expressions(res)).toContain(field);
    });
  }

  it('refuses a body that is not a JSON object, malformed JSON and other content types', async () => {
    for (const body of [[], 'patient-view', 42, true]) {
      const res = await h.invoke(ids['patient-view'] as string, body);
      expect(res.status).toBe(400);
    }
    const url = `${h.t.url}/cds-services/${ids['patient-view']}`;
    const malformed = await request(url, {
      method: 'POST',
      token: h.token,
      headers: { 'Content-Type': 'application/json' },
      body: '{"hook": ',
    });
    expect(malformed.status).toBe(400);
    const text = await request(url, {
      method: 'POST',
      token: h.token,
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify(patientView()),
    });
    expect(text.status).toBe(415);
    const empty = await request(url, { method: 'POST', token: h.token });
    expect(empty.status).toBe(400);
  });
});

describe('tolerances: what real CDS clients send', () => {
  it('accepts a missing hookInstance and audits a generated UUID', async () => {
    const body = patientView();
    delete body.hookInstance;
    const res = await h.invoke(ids['patient-view'] as string, body);
    expect(seen(res).hookInstance).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
  });

  it('accepts a non-UUID hookInstance, hands it to the bot as sent, audits a UUID and never deduplicates on it', async () => {
    const body = patientView({ hookInstance: 'epic-12345' });
    const first = await h.invoke(ids['patient-view'] as string, body);
    const second = await h.invoke(ids['patient-view'] as string, body);
    expect(seen(first).hookInstance).toBe('epic-12345');
    expect(seen(second).hookInstance).toBe('epic-12345');
    const events = await waitForAudit(h, `entity=Bot/${ids['patient-view']}&subtype=cds-hooks`, 3);
    for (const e of events) expect(detail(e, 'hookInstance')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('accepts the hook name in another letter case', async () => {
    const res = await h.invoke(ids['patient-view'] as string, patientView({ hook: 'Patient-View' }));
    expect(seen(res).hook).toBe('patient-view');
  });

  for (const type of [
    'application/json',
    'application/json; charset=UTF-8',
    'application/fhir+json',
    'application/fhir+json; charset=utf-8',
    'application/json+fhir',
    'application/json+fhir;charset=ISO-8859-1',
  ]) {
    it(`accepts Content-Type ${type}`, async () => {
      const res = await h.invoke(ids['patient-view'] as string, patientView(), { headers: { 'Content-Type': type } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });
  }

  it('accepts expires_in as a numeric string, and fhirServer with or without a trailing slash', async () => {
    for (const fhirServer of [h.ehr.fhirBase, `${h.ehr.fhirBase}/`]) {
      h.ehr.reset();
      const res = await h.invoke(
        ids.prefetching as string,
        patientView({
          fhirServer,
          fhirAuthorization: fhirAuthorization('patient/Patient.read', { expires_in: '300', patient: 'pat-a' }),
        }),
      );
      const s = seen(res);
      expect(s.fhirServer).toBe(h.ehr.fhirBase);
      expect(s.hasAuthorization).toBe(false);
      expect(s.prefetch.patient?.id).toBe('pat-a');
      expect(h.ehr.requests.map((r) => r.path)).toEqual(['Patient/pat-a']);
    }
  });

  it('reads context.patientId given as Patient/123 as the id, keeping the original', async () => {
    const res = await h.invoke(
      ids['patient-view'] as string,
      patientView({ context: { userId: 'Practitioner/prac-1', patientId: 'Patient/pat-a' } }),
    );
    const s = seen(res);
    expect(s.context.patientId).toBe('pat-a');
    expect(s.originalContext?.patientId).toBe('Patient/pat-a');
  });

  const longId = 'x'.repeat(40) + '-' + 'e'.repeat(150);
  const order = (id: string) => ({
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/pat-a' },
  });
  const draftOrderShapes: [string, unknown][] = [
    ['a collection Bundle', { resourceType: 'Bundle', type: 'collection', entry: [{ resource: order(longId) }] }],
    ['a searchset Bundle', { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: order(longId) }] }],
    ['a Bundle without type', { resourceType: 'Bundle', entry: [{ resource: order(longId) }] }],
    ['a bare array of resources', [order(longId)]],
    ['a bare array of entries', [{ resource: order(longId) }]],
  ];
  for (const [name, draftOrders] of draftOrderShapes) {
    it(`accepts draftOrders as ${name}, with ids longer than 64 characters`, async () => {
      const res = await h.invoke(ids['order-sign'] as string, orderSign({ draftOrders }));
      const bundle = seen(res).context.draftOrders as {
        resourceType: string;
        type: string;
        entry: { resource: { id: string } }[];
      };
      expect(bundle.resourceType).toBe('Bundle');
      expect(bundle.type).toBe('collection');
      expect(bundle.entry[0]?.resource.id).toBe(longId);
    });
  }

  it('accepts an empty draftOrders Bundle', async () => {
    const res = await h.invoke(
      ids['order-sign'] as string,
      orderSign({ draftOrders: { resourceType: 'Bundle', type: 'collection' } }),
    );
    expect(res.status).toBe(200);
  });

  it('normalises order-dispatch 1.0 (order, performer, task) and 1.1 (dispatchedOrders, fulfillmentTasks) to one shape', async () => {
    const task = { resourceType: 'Task', id: 't1', status: 'draft', intent: 'order' };
    const v10 = await h.invoke(ids['order-dispatch'] as string, {
      hook: 'order-dispatch',
      hookInstance: '0d3a7a3e-1a1a-4b7b-8a8a-111122223333',
      context: { patientId: 'pat-a', order: 'ServiceRequest/sr-a1', performer: 'Organization/lab-1', task },
    });
    const v11 = await h.invoke(ids['order-dispatch'] as string, {
      hook: 'order-dispatch',
      hookInstance: '0d3a7a3e-1a1a-4b7b-8a8a-111122223334',
      context: {
        patientId: 'pat-a',
        dispatchedOrders: ['ServiceRequest/sr-a1'],
        performer: 'Organization/lab-1',
        fulfillmentTasks: [task],
      },
    });
    const a = seen(v10);
    const b = seen(v11);
    expect(a.context).toEqual(b.context);
    expect(a.context).toEqual({
      patientId: 'pat-a',
      dispatchedOrders: ['ServiceRequest/sr-a1'],
      performer: 'Organization/lab-1',
      fulfillmentTasks: [task],
    });
    expect(a.originalContext).toEqual({
      patientId: 'pat-a',
      order: 'ServiceRequest/sr-a1',
      performer: 'Organization/lab-1',
      task,
    });
  });

  it('removes OperationOutcome entries from searchset and collection prefetch Bundles', async () => {
    const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational' }] };
    const coverage = {
      resourceType: 'Coverage',
      id: 'cov-a',
      status: 'active',
      beneficiary: { reference: 'Patient/pat-a' },
    };
    const res = await h.invoke(
      ids['patient-view'] as string,
      patientView({
        prefetch: {
          searchset: {
            resourceType: 'Bundle',
            type: 'searchset',
            entry: [{ resource: outcome, search: { mode: 'outcome' } }, { resource: coverage }],
          },
          collection: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: outcome }] },
        },
      }),
    );
    const s = seen(res);
    expect((s.prefetch.searchset?.entry as unknown[]).length).toBe(1);
    expect(s.prefetch.collection?.entry).toBeUndefined();
  });

  it('ignores unknown fields and extensions', async () => {
    const res = await h.invoke(
      ids['patient-view'] as string,
      patientView({
        extension: {
          'com.epic.cdshooks.request.bpa-trigger-action': '6',
          'com.epic.cdshooks.request.criteria-id': '123',
        },
        unknownTopLevel: { a: 1 },
        context: { userId: 'Practitioner/prac-1', patientId: 'pat-a', someVendorField: 'x' },
      }),
    );
    expect(seen(res).context.someVendorField).toBe('x');
  });

  it('answers the six CRD sample requests of the reference folder', async () => {
    const files = readdirSync(CRD_REQUESTS).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(6);
    for (const file of files) {
      const body = JSON.parse(readFileSync(path.join(CRD_REQUESTS, file), 'utf8')) as { hook: string };
      const res = await h.invoke(ids[body.hook] as string, body);
      expect(res.status, `${file}: ${JSON.stringify(res.body)}`).toBe(200);
      const s = seen(res);
      expect(s.hook).toBe(body.hook);
      if (body.hook === 'order-dispatch') expect(s.context.dispatchedOrders).toEqual(['ServiceRequest/example']);
    }
  });
});

describe("the payer's bot failing is the service's fault", () => {
  it('a bot that throws answers 500 saying so, not 400 as if the request were wrong', async () => {
    const id = await h.deployService(
      { hook: 'patient-view', title: 'Throws', description: 'Always fails' },
      `exports.handler = async () => { throw new Error('boom'); };`,
      'throws',
    );
    const res = await h.invoke(id, patientView());
    expect(res.status, JSON.stringify(res.body)).toBe(500);
    expect(JSON.stringify(res.body)).toContain("Bot failed (the payer's bot failed, not the request): boom");
    const wrong = await h.invoke(id, { hook: 'patient-view', context: {} });
    expect(wrong.status).toBe(400);
  });
});

describe('a request, however thin, never causes a 5xx', () => {
  const thin: unknown[] = [
    {},
    { hook: 'patient-view' },
    { hook: 'patient-view', context: {} },
    { hook: 'patient-view', context: { patientId: null, userId: null } },
    { hook: 'patient-view', context: { patientId: {}, userId: [] } },
    { hook: null, context: null, prefetch: null, fhirServer: null, fhirAuthorization: null },
    {
      hook: 'patient-view',
      context: { patientId: 'pat-a', userId: 'Practitioner/1' },
      prefetch: { patient: 'x', coverage: 5, b: [] },
    },
    {
      hook: 'patient-view',
      context: { patientId: 'pat-a', userId: 'Practitioner/1' },
      fhirServer: 'https://[::1',
      fhirAuthorization: {},
    },
    {
      hook: 'patient-view',
      context: { patientId: 'pat-a', userId: 'Practitioner/1' },
      fhirServer: 'javascript:alert(1)',
      fhirAuthorization: { access_token: 'x', token_type: 'Bearer' },
    },
    {
      hook: 'patient-view',
      context: { patientId: 'pat-a', userId: 'Practitioner/1' },
      fhirAuthorization: { access_token: 'x', token_type: 'Bearer', scope: 42, expires_in: 'soon', patient: {} },
      fhirServer: 'https://ehr.invalid/fhir',
    },
    {
      hook: 'patient-view',
      context: { patientId: 'Patient/', userId: 'Practitioner/' },
      prefetch: { patient: { resourceType: 'Bundle', entry: 'x' } },
    },
    { hook: ['patient-view'], hookInstance: {}, context: { patientId: 'a'.repeat(10_000), userId: 'Practitioner/1' } },
    { __proto__: { hook: 'patient-view' } },
    {
      constructor: { prototype: { hook: 'x' } },
      hook: 'patient-view',
      context: { userId: 'Practitioner/1', patientId: 'pat-a', toString: 1 },
    },
  ];
  for (const [i, body] of thin.entries()) {
    it(`thin request #${i} → 4xx or 200`, async () => {
      for (const id of [ids['patient-view'], ids.prefetching, ids['order-dispatch']] as string[]) {
        const res = await h.invoke(id, body);
        expect(res.status, `${id}: ${JSON.stringify(res.body)}`).toBeLessThan(500);
      }
    });
  }

  it('a deeply nested body is refused or read, not crashed on', async () => {
    for (const depth of [1_000, 100_000]) {
      const deep = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      const body = `{"hook":"patient-view","context":{"userId":"Practitioner/1","patientId":"pat-a","deep":${deep}}}`;
      const res = await request(`${h.t.url}/cds-services/${ids['patient-view']}`, {
        method: 'POST',
        token: h.token,
        headers: { 'Content-Type': 'application/json' },
        body,
      });
      expect(res.status, `depth ${depth}`).toBeLessThan(500);
    }
  });
});
