import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateCdsRequest, type CdsRequestValidation, type NormalizedCdsRequest } from './request.js';
import type { BotCdsService } from './types.js';

const fixtures = new URL('./__fixtures__/requests/', import.meta.url);
const load = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(name, fixtures), 'utf8')) as Record<string, unknown>;

const service = (hook: string): BotCdsService => ({ hook, title: 't', description: 'd' });
const UUID = 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea';

function base(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hook: 'patient-view',
    hookInstance: UUID,
    context: { userId: 'Practitioner/1', patientId: '123' },
    ...overrides,
  };
}

function ok(result: CdsRequestValidation): NormalizedCdsRequest {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.issues)}`);
  return result.request;
}

function issuePaths(result: CdsRequestValidation): string[] {
  if (result.ok) throw new Error('expected issues');
  return result.issues.map((i) => i.path);
}

const orderSign = (draftOrders: unknown): Record<string, unknown> =>
  base({ hook: 'order-sign', context: { userId: 'Practitioner/1', patientId: '1', draftOrders } });

describe('validateCdsRequest: Inferno CRD requests', () => {
  const names = readdirSync(fixtures).filter((f) => f.endsWith('.json'));
  it('has the six sample requests', () => expect(names).toHaveLength(6));
  for (const name of names) {
    it(`accepts ${name}`, () => {
      const body = load(name);
      const request = ok(validateCdsRequest(body, service(body.hook as string)));
      expect(request.fhirServer).toBe('https://example/r4');
      expect(request.fhirAuthorization?.token_type).toBe('Bearer');
    });
  }
});

describe('validateCdsRequest: errors', () => {
  it.each([null, [], 'x', 42, true, undefined])('answers issues, never throws, for %j', (body) => {
    expect(issuePaths(validateCdsRequest(body, service('patient-view')))).toEqual(['']);
  });

  it('survives deeply nested junk', () => {
    let nested: unknown = {};
    for (let i = 0; i < 10_000; i++) nested = { a: nested, entry: [nested] };
    const result = validateCdsRequest(
      { hook: 'order-sign', context: { draftOrders: nested, patientId: nested }, prefetch: { p: nested } },
      service('order-sign'),
    );
    expect(issuePaths(result)).toEqual(['context.userId', 'context.patientId']);
  });

  it('names a missing hook', () => {
    expect(issuePaths(validateCdsRequest(base({ hook: undefined }), service('patient-view')))).toEqual(['hook']);
  });

  it('names a hook that is not the service hook', () => {
    expect(issuePaths(validateCdsRequest(base({ hook: 'order-sign' }), service('patient-view')))).toEqual(['hook']);
  });

  it('names a missing or non-object context', () => {
    expect(issuePaths(validateCdsRequest(base({ context: undefined }), service('patient-view')))).toEqual(['context']);
    expect(issuePaths(validateCdsRequest(base({ context: [] }), service('patient-view')))).toEqual(['context']);
  });

  it('names each missing required context field', () => {
    const result = validateCdsRequest(base({ hook: 'order-sign', context: { userId: '' } }), service('order-sign'));
    expect(issuePaths(result)).toEqual(['context.userId', 'context.patientId', 'context.draftOrders']);
  });

  it('names wrongly typed context fields', () => {
    const result = validateCdsRequest(
      base({ hook: 'order-select', context: { userId: 5, patientId: {}, selections: [1], draftOrders: 'x' } }),
      service('order-select'),
    );
    expect(issuePaths(result)).toEqual([
      'context.userId',
      'context.patientId',
      'context.selections',
      'context.draftOrders',
    ]);
  });

  it('requires fhirServer when fhirAuthorization is sent', () => {
    const auth = { access_token: 'tok', token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'c' };
    expect(issuePaths(validateCdsRequest(base({ fhirAuthorization: auth }), service('patient-view')))).toEqual([
      'fhirServer',
    ]);
  });

  it('requires fhirServer to be an absolute URL', () => {
    for (const fhirServer of ['/fhir', 'ftp://x/fhir', 'not a url', 7]) {
      expect(issuePaths(validateCdsRequest(base({ fhirServer }), service('patient-view')))).toEqual(['fhirServer']);
    }
  });

  it('requires access_token and a Bearer token_type', () => {
    const result = validateCdsRequest(
      base({ fhirServer: 'https://ehr/fhir', fhirAuthorization: { token_type: 'MAC' } }),
      service('patient-view'),
    );
    expect(issuePaths(result)).toEqual(['fhirAuthorization.access_token', 'fhirAuthorization.token_type']);
    const notObject = validateCdsRequest(
      base({ fhirServer: 'https://ehr/fhir', fhirAuthorization: 'tok' }),
      service('patient-view'),
    );
    expect(issuePaths(notObject)).toEqual(['fhirAuthorization']);
  });

  it('names a prefetch that is not an object', () => {
    expect(issuePaths(validateCdsRequest(base({ prefetch: [] }), service('patient-view')))).toEqual(['prefetch']);
  });
});

describe('validateCdsRequest: tolerances', () => {
  it('generates a hookInstance when missing', () => {
    const result = validateCdsRequest(base({ hookInstance: undefined }), service('patient-view'));
    const request = ok(result);
    expect(request.hookInstance).toMatch(/^[0-9a-f-]{36}$/);
    expect(request.auditHookInstance).toBe(request.hookInstance);
    expect(result.ok && result.warnings).toContain('hookInstance is missing; a UUID was generated');
  });

  it('keeps a non-UUID hookInstance and generates a UUID for the audit', () => {
    const request = ok(validateCdsRequest(base({ hookInstance: 'epic-123' }), service('patient-view')));
    expect(request.hookInstance).toBe('epic-123');
    expect(request.auditHookInstance).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('uses a UUID hookInstance for the audit as is', () => {
    expect(ok(validateCdsRequest(base(), service('patient-view'))).auditHookInstance).toBe(UUID);
  });

  it('accepts the hook in another letter case', () => {
    const request = ok(validateCdsRequest(base({ hook: 'Patient-VIEW' }), service('patient-view')));
    expect(request.hook).toBe('patient-view');
  });

  it('reads expires_in given as a numeric string, and Bearer in any case', () => {
    const auth = { access_token: 't', token_type: 'bearer', expires_in: '3599', scope: 's', subject: 'c' };
    const request = ok(
      validateCdsRequest(base({ fhirServer: 'https://ehr/fhir', fhirAuthorization: auth }), service('patient-view')),
    );
    expect(request.fhirAuthorization).toEqual({ ...auth, token_type: 'Bearer', expires_in: 3599 });
  });

  it('ignores a garbage expires_in and a missing scope', () => {
    const auth = { access_token: 't', token_type: 'Bearer', expires_in: 'soon' };
    const request = ok(
      validateCdsRequest(base({ fhirServer: 'https://ehr/fhir', fhirAuthorization: auth }), service('patient-view')),
    );
    expect(request.fhirAuthorization).toEqual({ access_token: 't', token_type: 'Bearer', scope: '' });
  });

  it.each(['https://ehr.example/fhir/R4', 'https://ehr.example/fhir/R4/', 'https://ehr.example/fhir/R4//'])(
    'normalises fhirServer %s without a trailing slash',
    (fhirServer) => {
      expect(ok(validateCdsRequest(base({ fhirServer }), service('patient-view'))).fhirServer).toBe(
        'https://ehr.example/fhir/R4',
      );
    },
  );

  it('normalises context.patientId given as Patient/123 and keeps the original context', () => {
    const context = {
      userId: 'https://ehr/fhir/PractitionerRole/9',
      patientId: 'Patient/123',
      encounterId: 'Encounter/e1',
    };
    const request = ok(validateCdsRequest(base({ context }), service('patient-view')));
    expect(request.context).toEqual({ userId: 'PractitionerRole/9', patientId: '123', encounterId: 'e1' });
    expect(request.originalContext).toEqual(context);
  });

  it('leaves an already normal context without originalContext', () => {
    expect(ok(validateCdsRequest(base(), service('patient-view'))).originalContext).toBeUndefined();
  });

  it.each([['searchset'], ['batch'], [undefined]])('normalises draftOrders of Bundle type %s to collection', (type) => {
    const draft = { resourceType: 'Bundle', type, entry: [{ resource: { resourceType: 'ServiceRequest', id: 'a' } }] };
    const request = ok(validateCdsRequest(orderSign(draft), service('order-sign')));
    expect(request.context.draftOrders).toEqual({ ...draft, type: 'collection' });
  });

  it('wraps draftOrders given as a bare array of resources', () => {
    const orders = [
      { resourceType: 'MedicationRequest', id: 'm1' },
      { resourceType: 'Medication', id: 'med' },
    ];
    const request = ok(validateCdsRequest(orderSign(orders), service('order-sign')));
    expect(request.context.draftOrders).toEqual({
      resourceType: 'Bundle',
      type: 'collection',
      entry: orders.map((resource) => ({ resource })),
    });
  });

  it('accepts resource ids longer than 64 characters (Epic sends ~194)', () => {
    const id = 'ez067mnwOAKP5z1.YJwRAsd9g-'.repeat(8);
    const request = ok(validateCdsRequest(orderSign([{ resourceType: 'ServiceRequest', id }]), service('order-sign')));
    expect(request.context.draftOrders).toMatchObject({ entry: [{ resource: { id } }] });
  });

  const dispatch11 = {
    patientId: 'p1',
    dispatchedOrders: ['ServiceRequest/1'],
    performer: 'Organization/o',
    fulfillmentTasks: [{ resourceType: 'Task', id: 't' }],
  };

  it('normalises an order-dispatch 1.0 context to the 1.1 shape and keeps the original', () => {
    const context = {
      patientId: 'p1',
      order: 'ServiceRequest/1',
      performer: 'Organization/o',
      task: { resourceType: 'Task', id: 't' },
    };
    const request = ok(validateCdsRequest(base({ hook: 'order-dispatch', context }), service('order-dispatch')));
    expect(request.context).toEqual(dispatch11);
    expect(request.originalContext).toEqual(context);
  });

  it('accepts an order-dispatch 1.1 context as is', () => {
    const request = ok(
      validateCdsRequest(base({ hook: 'order-dispatch', context: dispatch11 }), service('order-dispatch')),
    );
    expect(request.context).toEqual(dispatch11);
    expect(request.originalContext).toBeUndefined();
  });

  it('reads the kebab-case order-dispatch draft names', () => {
    const context = {
      patientId: 'p1',
      'dispatched-orders': ['ServiceRequest/1'],
      performer: 'Organization/o',
      'fulfillment-tasks': [{ resourceType: 'Task', id: 't' }],
    };
    const request = ok(validateCdsRequest(base({ hook: 'order-dispatch', context }), service('order-dispatch')));
    expect(request.context).toEqual(dispatch11);
  });

  it('removes OperationOutcome entries from searchset and collection prefetch Bundles', () => {
    const coverage = { resourceType: 'Coverage', id: 'c' };
    const outcome = { resource: { resourceType: 'OperationOutcome' }, search: { mode: 'outcome' } };
    const prefetch = {
      coverage: { resourceType: 'Bundle', type: 'searchset', entry: [outcome, { resource: coverage }] },
      empty: { resourceType: 'Bundle', type: 'collection', total: 0, entry: [outcome] },
      patient: { resourceType: 'Patient', id: '123' },
      none: null,
      junk: 'Tomcat error page',
    };
    const result = validateCdsRequest(base({ prefetch }), service('patient-view'));
    expect(ok(result).prefetch).toEqual({
      coverage: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: coverage }] },
      empty: { resourceType: 'Bundle', type: 'collection', total: 0 },
      patient: prefetch.patient,
      none: null,
    });
    expect(result.ok && result.warnings).toContain('prefetch.junk is not a FHIR resource; treated as not supplied');
  });

  it('ignores unknown fields and keeps extension', () => {
    const extension = { 'com.epic.cdshooks.request.bpa-trigger-action': '90' };
    const request = ok(
      validateCdsRequest(
        base({ extension, user: 'Practitioner/1', context: { userId: 'Practitioner/1', patientId: '1', x: 1 } }),
        service('patient-view'),
      ),
    );
    expect(request.extension).toEqual(extension);
    expect(request.context.x).toBe(1);
    expect(request).not.toHaveProperty('user');
  });
});
