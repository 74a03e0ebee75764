/**
 * Shared set-up for the CDS end-to-end tests: a Hookbot server in development mode (unless `env` sets NODE_ENV), a
 * loopback EHR the demo project allows, tokens, and helpers to deploy CDS services and call them.
 */
import { expect } from 'vitest';
import { getToken, request, type JsonResponse } from './http.js';
import { EHR_TOKEN, PATIENT_A, startEhrServer, type EhrServer } from './ehr-server.js';
import { startTestServer, type TestServer, type TestServerOptions } from './server.js';

export interface CdsHarness {
  t: TestServer;
  ehr: EhrServer;
  /** Demo project access token. */
  token: string;
  adminToken: string;
  fhir: string;
  deployService(cdsService: Record<string, unknown>, code: string, name?: string): Promise<string>;
  invoke(id: string, body: unknown, init?: { token?: string; headers?: Record<string, string> }): Promise<JsonResponse>;
  stop(): Promise<void>;
}

export async function startCdsHarness(options: TestServerOptions = {}): Promise<CdsHarness> {
  const t = await startTestServer({ store: 'pglite', ...options, env: { NODE_ENV: 'development', ...options.env } });
  const ehr = await startEhrServer();
  const token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  const adminToken = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
  const settings = await request(`${t.url}/admin/projects/${t.demo.projectId}/settings`, {
    method: 'PUT',
    token: adminToken,
    json: { allowedBaseUrls: [ehr.origin] },
  });
  expect(settings.status).toBe(200);
  const fhir = `${t.url}/fhir/R4`;
  return {
    t,
    ehr,
    token,
    adminToken,
    fhir,
    async deployService(cdsService, code, name = 'cds-test') {
      const created = await request<{ id: string }>(`${fhir}/Bot`, {
        method: 'POST',
        token,
        json: { resourceType: 'Bot', name, cdsService },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const deployed = await request(`${fhir}/Bot/${created.body.id}/$deploy`, {
        method: 'POST',
        token,
        json: { code, filename: 'bot.js' },
      });
      expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
      return created.body.id;
    },
    invoke(id, body, init = {}) {
      return request(`${t.url}/cds-services/${id}`, {
        method: 'POST',
        token: init.token ?? token,
        json: body,
        ...(init.headers ? { headers: init.headers } : {}),
      });
    },
    async stop() {
      await ehr.stop();
      await t.stop();
    },
  };
}

/** A patient-view service whose prefetch reads the context patient (deploy it with SCRIPT_BOT). */
export const PREFETCHING_SERVICE = {
  hook: 'patient-view',
  title: 'Prefetching',
  description: 'Fetches the patient',
  prefetch: [{ key: 'patient', query: 'Patient/{{context.patientId}}' }],
};

/**
 * A bot driven by the request's `extension`: `respond` is returned as is (card-validation tests); `ops` are reads
 * and searches on `medplum` (the EHR client) or `payer`, each reported as ids or the error message. Otherwise one
 * card whose detail is JSON of what the bot saw.
 */
export const SCRIPT_BOT = `
exports.handler = async (medplum, event, clients) => {
  const ext = event.input.extension || {};
  if (ext.respond !== undefined) return ext.respond;
  const results = [];
  for (const op of ext.ops || []) {
    const client = op.client === 'payer' ? clients.payer : medplum;
    try {
      const r =
        op.kind === 'read'
          ? await client.readResource(op.type, op.id)
          : op.kind === 'create'
            ? await client.createResource(op.resource)
            : await client.searchResources(op.type, op.query);
      results.push(Array.isArray(r) ? { ok: true, ids: r.map((x) => x.id) } : { ok: true, id: r.id });
    } catch (e) {
      results.push({ ok: false, error: String((e && e.message) || e) });
    }
  }
  const seen = {
    results,
    hook: event.input.hook,
    hookInstance: event.input.hookInstance,
    context: event.input.context,
    originalContext: event.input.originalContext,
    prefetch: event.input.prefetch,
    fhirServer: event.input.fhirServer,
    hasAuthorization: 'fhirAuthorization' in event.input,
    clients: Object.keys(clients),
  };
  return { cards: [{ summary: 'seen', indicator: 'info', source: { label: 'Hookbot test' }, detail: JSON.stringify(seen) }] };
};
`;

export interface Seen {
  results: { ok: boolean; id?: string; ids?: string[]; error?: string }[];
  hook: string;
  hookInstance: string;
  context: Record<string, unknown>;
  originalContext?: Record<string, unknown>;
  prefetch: Record<string, Record<string, unknown> | null>;
  fhirServer?: string;
  hasAuthorization: boolean;
  clients: string[];
}

/** What SCRIPT_BOT saw, from a 200 response. */
export function seen(res: JsonResponse): Seen {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const cards = res.body.cards as { detail: string }[];
  return JSON.parse(cards[0]?.detail ?? '{}') as Seen;
}

export function fhirAuthorization(scope: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { access_token: EHR_TOKEN, token_type: 'Bearer', expires_in: 300, scope, subject: 'cds-service', ...extra };
}

/** A minimal valid patient-view request for PATIENT_A. */
export function patientView(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hook: 'patient-view',
    hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
    context: { userId: 'Practitioner/prac-1', patientId: PATIENT_A },
    ...extra,
  };
}

/** The `expression` paths of an OperationOutcome. */
export function expressions(res: JsonResponse): string[] {
  const issues = (res.body.issue ?? []) as { expression?: string[] }[];
  return issues.flatMap((i) => i.expression ?? []);
}

export function diagnostics(res: JsonResponse): string {
  const issues = (res.body.issue ?? []) as { diagnostics?: string }[];
  return issues.map((i) => i.diagnostics ?? '').join('\n');
}

/** Waits for the AuditEvents of a bot (they are written in batches, off the response path). */
export interface AuditLike {
  outcome: string;
  outcomeDesc?: string;
  subtype?: { code: string }[];
  entity: { detail?: { type: string; valueString: string }[] }[];
}

/** Polls until at least `count` events match the search and `until` (if given) holds for them. */
export async function waitForAudit(
  h: CdsHarness,
  query: string,
  count: number,
  until: (events: AuditLike[]) => boolean = () => true,
): Promise<AuditLike[]> {
  for (let i = 0; i < 60; i++) {
    const res = await request<{ entry?: { resource: never }[] }>(`${h.fhir}/AuditEvent?${query}&_count=500`, {
      token: h.token,
    });
    const events = (res.body.entry ?? []).map((e) => e.resource);
    if (events.length >= count && until(events)) return events;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`AuditEvent not written for ${query}`);
}

export function detail(
  event: { entity: { detail?: { type: string; valueString: string }[] }[] },
  type: string,
): string | undefined {
  return event.entity[0]?.detail?.find((d) => d.type === type)?.valueString;
}
