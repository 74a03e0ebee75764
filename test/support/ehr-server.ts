/**
 * A small EHR FHIR server on loopback for CDS end-to-end tests: Patient, Coverage, MedicationRequest,
 * ServiceRequest and Practitioner for two patients, reads and simple searches, a bearer-token check, a log of every
 * request (so a test can prove a call was or was NOT sent), failures on demand, and a JWKS at `/jwks` for CDS
 * client JWT tests.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JSONWebKeySet } from 'jose';

export const EHR_TOKEN = 'ehr-access-token-4711';
export const PATIENT_A = 'pat-a';
export const PATIENT_B = 'pat-b';

type Res = Record<string, unknown> & { resourceType: string; id: string };

export function ehrResources(): Res[] {
  const coverage = (id: string, patient: string, group: string): Res => ({
    resourceType: 'Coverage',
    id,
    status: 'active',
    beneficiary: { reference: `Patient/${patient}` },
    payor: [{ reference: 'Organization/payer-1' }],
    class: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'group' }] },
        value: group,
      },
    ],
  });
  const medication = (id: string, patient: string, mg: number): Res => ({
    resourceType: 'MedicationRequest',
    id,
    status: 'active',
    intent: 'order',
    subject: { reference: `Patient/${patient}` },
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '197361' }] },
    dosageInstruction: [{ doseAndRate: [{ doseQuantity: { value: mg, unit: 'mg' } }] }],
  });
  return [
    { resourceType: 'Patient', id: PATIENT_A, name: [{ family: 'Able', given: ['Ada'] }], birthDate: '1970-01-01' },
    { resourceType: 'Patient', id: PATIENT_B, name: [{ family: 'Baker', given: ['Bo'] }], birthDate: '1980-02-02' },
    coverage('cov-a', PATIENT_A, 'GRP2245'),
    coverage('cov-b', PATIENT_B, 'GRP0001'),
    medication('mr-a1', PATIENT_A, 5),
    medication('mr-b1', PATIENT_B, 10),
    {
      resourceType: 'ServiceRequest',
      id: 'sr-a1',
      status: 'draft',
      intent: 'order',
      subject: { reference: `Patient/${PATIENT_A}` },
      code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '93456' }] },
    },
    { resourceType: 'Practitioner', id: 'prac-1', name: [{ family: 'Granite', given: ['Pat'] }] },
  ];
}

export interface RecordedRequest {
  method: string;
  /** Path and query below the FHIR base, e.g. `Coverage?patient=pat-a`. */
  path: string;
  authorization: string | undefined;
  traceparent: string | undefined;
  baggage: string | undefined;
}

export interface EhrFailure {
  status?: number;
  delayMs?: number;
  /** Only requests whose path starts with this fail; all when absent. */
  pathPrefix?: string;
}

export interface EhrServer {
  /** Origin, e.g. `http://127.0.0.1:40123`. */
  origin: string;
  /** The FHIR base URL to send as `fhirServer`. */
  fhirBase: string;
  /** The JWKS URL served from `jwks`. */
  jwksUri: string;
  requests: RecordedRequest[];
  jwks: JSONWebKeySet;
  jwksFetches: number;
  failure: EhrFailure | undefined;
  /** Requests to the FHIR base whose path starts with `prefix` (`Coverage`, `Patient/pat-b`). */
  calls(prefix?: string): RecordedRequest[];
  reset(): void;
  stop(): Promise<void>;
}

const REFERENCE_PARAMS: Record<string, string[]> = {
  patient: ['subject', 'beneficiary', 'patient'],
  subject: ['subject'],
  beneficiary: ['beneficiary'],
};

function matches(resource: Res, params: URLSearchParams): boolean {
  for (const [name, value] of params) {
    if (name.startsWith('_') && name !== '_id') continue;
    if (name === '_id') {
      if (!value.split(',').includes(resource.id)) return false;
      continue;
    }
    const fields = REFERENCE_PARAMS[name];
    if (fields) {
      const wanted = value.includes('/') ? value : `Patient/${value}`;
      const ok = fields.some((f) => (resource[f] as { reference?: string } | undefined)?.reference === wanted);
      if (!ok) return false;
      continue;
    }
    if (name === 'status' && resource.status !== value) return false;
  }
  return true;
}

const FHIR_PREFIX = '/fhir/';

export async function startEhrServer(): Promise<EhrServer> {
  const resources = ehrResources();
  // Filled in once the port is known; the request handler only runs after that.
  const ehr = {} as EhrServer;
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/fhir+json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/jwks') {
        ehr.jwksFetches++;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(ehr.jwks));
        return;
      }
      if (!url.pathname.startsWith(FHIR_PREFIX)) return send(404, { resourceType: 'OperationOutcome', issue: [] });
      const path = `${url.pathname.slice(FHIR_PREFIX.length)}${url.search}`;
      ehr.requests.push({
        method: req.method ?? 'GET',
        path,
        authorization: req.headers.authorization,
        traceparent: typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined,
        baggage: typeof req.headers.baggage === 'string' ? req.headers.baggage : undefined,
      });
      const failure = ehr.failure;
      if (failure && (!failure.pathPrefix || path.startsWith(failure.pathPrefix))) {
        if (failure.delayMs) await new Promise((r) => setTimeout(r, failure.delayMs));
        if (failure.status)
          return send(failure.status, {
            resourceType: 'OperationOutcome',
            issue: [{ severity: 'error', code: 'exception' }],
          });
      }
      if (req.headers.authorization !== `Bearer ${EHR_TOKEN}`) {
        return send(401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
      }
      if (req.method !== 'GET')
        return send(405, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported' }] });
      const [type = '', id] = url.pathname.slice(FHIR_PREFIX.length).split('/');
      if (id) {
        const found = resources.find((r) => r.resourceType === type && r.id === decodeURIComponent(id));
        return found
          ? send(200, found)
          : send(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
      }
      const hits = resources.filter((r) => r.resourceType === type && matches(r, url.searchParams));
      send(200, {
        resourceType: 'Bundle',
        type: 'searchset',
        total: hits.length,
        ...(hits.length
          ? {
              entry: hits.map((r) => ({
                fullUrl: `${ehr.fhirBase}/${r.resourceType}/${r.id}`,
                resource: r,
                search: { mode: 'match' },
              })),
            }
          : {}),
      });
    })().catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  Object.assign(ehr, {
    origin,
    fhirBase: `${origin}/fhir`,
    jwksUri: `${origin}/jwks`,
    requests: [],
    jwks: { keys: [] },
    jwksFetches: 0,
    failure: undefined,
    calls: (prefix = '') => ehr.requests.filter((r) => r.path.startsWith(prefix)),
    reset() {
      ehr.requests = [];
      ehr.failure = undefined;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  } satisfies EhrServer);
  return ehr;
}
