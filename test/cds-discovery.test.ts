/** CDS Hooks discovery, invocation by id, the hook-name 404, CORS and the invocation AuditEvent, over HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import {
  detail,
  diagnostics,
  patientView,
  SCRIPT_BOT,
  startCdsHarness,
  waitForAudit,
  type AuditLike,
  type CdsHarness,
} from './support/cds.js';

let h: CdsHarness;
let withPrefetch: string;
let bare: string;

beforeAll(async () => {
  h = await startCdsHarness();
  withPrefetch = await h.deployService(
    {
      hook: 'patient-view',
      title: 'Coverage check',
      description: 'Reads the patient and coverage',
      usageRequirements: 'Send Coverage in prefetch',
      prefetch: [
        { key: 'patient', query: 'Patient/{{context.patientId}}' },
        { key: 'coverage', query: 'Coverage?patient={{context.patientId}}' },
      ],
    },
    SCRIPT_BOT,
  );
  bare = await h.deployService({ hook: 'order-sign', title: 'Bare', description: 'No prefetch' }, SCRIPT_BOT);
});
afterAll(async () => h?.stop());

describe('GET /cds-services', () => {
  it('requires authentication and says how to authenticate', async () => {
    const res = await request(`${h.t.url}/cds-services`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.body.resourceType).toBe('OperationOutcome');
    const junk = await request(`${h.t.url}/cds-services`, { token: 'not-a-jwt' });
    expect(junk.status).toBe(401);
  });

  it('lists the project services with prefetch flattened to {key: query} and no empty values', async () => {
    const res = await request<{ services: Record<string, unknown>[] }>(`${h.t.url}/cds-services`, { token: h.token });
    expect(res.status).toBe(200);
    const byId = new Map(res.body.services.map((s) => [s.id, s]));
    expect(byId.get(withPrefetch)).toEqual({
      id: withPrefetch,
      hook: 'patient-view',
      title: 'Coverage check',
      description: 'Reads the patient and coverage',
      usageRequirements: 'Send Coverage in prefetch',
      prefetch: { patient: 'Patient/{{context.patientId}}', coverage: 'Coverage?patient={{context.patientId}}' },
    });
    expect(byId.get(bare)).toEqual({ id: bare, hook: 'order-sign', title: 'Bare', description: 'No prefetch' });
    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(/:""|:\[\]|:\{\}|:null/);
  });

  it('does not list bots without a cdsService', async () => {
    const plain = await request<{ id: string }>(`${h.fhir}/Bot`, {
      method: 'POST',
      token: h.token,
      json: { resourceType: 'Bot', name: 'plain' },
    });
    const res = await request<{ services: { id: string }[] }>(`${h.t.url}/cds-services`, { token: h.token });
    expect(res.body.services.map((s) => s.id)).not.toContain(plain.body.id);
  });

  it("shows only the caller's project: another tenant neither sees nor calls the demo services", async () => {
    const created = await request<{ project: { id: string }; client: { clientId: string; clientSecret: string } }>(
      `${h.t.url}/admin/projects`,
      { method: 'POST', token: h.adminToken, json: { name: 'other-payer' } },
    );
    expect(created.status).toBe(201);
    const other = await getToken(h.t.url, created.body.client.clientId, created.body.client.clientSecret);
    const own = await request<{ id: string }>(`${h.fhir}/Bot`, {
      method: 'POST',
      token: other,
      json: {
        resourceType: 'Bot',
        name: 'theirs',
        cdsService: { hook: 'patient-view', title: 'Theirs', description: 'Other tenant' },
      },
    });
    expect(own.status).toBe(201);

    const mine = await request<{ services: { id: string }[] }>(`${h.t.url}/cds-services`, { token: h.token });
    expect(mine.body.services.map((s) => s.id)).not.toContain(own.body.id);
    const theirs = await request<{ services: { id: string }[] }>(`${h.t.url}/cds-services`, { token: other });
    expect(theirs.body.services.map((s) => s.id)).toEqual([own.body.id]);

    const cross = await h.invoke(withPrefetch, patientView(), { token: other });
    expect(cross.status).toBe(404);
  });
});

describe('POST /cds-services/{id}', () => {
  it('invokes a service by its id', async () => {
    const res = await h.invoke(bare, {
      hook: 'order-sign',
      hookInstance: 'a9f1c1de-8b8c-4e55-9d2a-6f2b2f1c0a01',
      context: {
        userId: 'Practitioner/prac-1',
        patientId: 'pat-a',
        draftOrders: { resourceType: 'Bundle', type: 'collection' },
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const cards = res.body.cards as { uuid: string; summary: string }[];
    expect(cards[0]?.summary).toBe('seen');
    expect(cards[0]?.uuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 404 for an unknown id, and tells a caller who used the hook name to use the service id', async () => {
    const unknown = await h.invoke('no-such-service', patientView());
    expect(unknown.status).toBe(404);
    expect(diagnostics(unknown)).toMatch(/GET \/cds-services/);

    const byHook = await h.invoke('order-sign', { hook: 'order-sign', context: {} });
    expect(byHook.status).toBe(404);
    expect(diagnostics(byHook)).toMatch(/hook name/);
    expect(diagnostics(byHook)).toMatch(/GET \/cds-services/);
    expect(diagnostics(byHook)).toMatch(/id/);

    const weird = await h.invoke('..%2F..%2Fadmin', patientView());
    expect(weird.status).toBe(404);
  });

  it('answers 404 for a bot that is not a CDS service', async () => {
    const plain = await request<{ id: string }>(`${h.fhir}/Bot`, {
      method: 'POST',
      token: h.token,
      json: { resourceType: 'Bot', name: 'plain2' },
    });
    const res = await h.invoke(plain.body.id, patientView());
    expect(res.status).toBe(404);
  });

  it('writes an AuditEvent per invocation with hook, hookInstance, service id and outcome', async () => {
    const hookInstance = 'f3d3c1aa-1111-4222-8333-444455556666';
    const res = await h.invoke(
      withPrefetch,
      patientView({ hookInstance, prefetch: { patient: null, coverage: null } }),
    );
    expect(res.status).toBe(200);
    const mine = (e: AuditLike) => detail(e, 'hookInstance') === hookInstance;
    const events = await waitForAudit(h, `entity=Bot/${withPrefetch}&subtype=cds-hooks`, 1, (list) => list.some(mine));
    const event = events.find(mine);
    expect(event).toBeDefined();
    expect(event?.outcome).toBe('0');
    expect(detail(event!, 'hook')).toBe('patient-view');
    expect(detail(event!, 'serviceId')).toBe(withPrefetch);
    expect(Number(detail(event!, 'durationMs'))).toBeGreaterThan(0);
  });
});

describe('CORS', () => {
  it('answers a preflight for a browser-based CDS client', async () => {
    const res = await fetch(`${h.t.url}/cds-services/${bare}`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://ehr.example.org',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://ehr.example.org');
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/authorization/);
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/content-type/);
  });

  it('sets the CORS headers on discovery and on errors', async () => {
    const ok = await request(`${h.t.url}/cds-services`, {
      token: h.token,
      headers: { Origin: 'https://ehr.example.org' },
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://ehr.example.org');
    const denied = await request(`${h.t.url}/cds-services`, { headers: { Origin: 'https://ehr.example.org' } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('https://ehr.example.org');
    expect(denied.headers.get('access-control-expose-headers')?.toLowerCase()).toMatch(/www-authenticate/);
  });
});
