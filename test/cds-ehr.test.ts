/**
 * Prefetch (supplied, missing and fetched with the EHR's token, 412) and the EHR client a bot gets, limited to the
 * `fhirAuthorization` scopes (SMART v1, v2, v2 queries, non-SMART names → patient compartment, none → no access),
 * beside the payer's read-only client. The loopback EHR records every request, so a refused call is proven unsent.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { request } from './support/http.js';
import { EHR_TOKEN } from './support/ehr-server.js';
import {
  expressions,
  fhirAuthorization,
  patientView,
  SCRIPT_BOT,
  seen,
  startCdsHarness,
  type CdsHarness,
} from './support/cds.js';

let h: CdsHarness;
let prefetching: string;
let scripted: string;

beforeAll(async () => {
  h = await startCdsHarness();
  prefetching = await h.deployService(
    {
      hook: 'patient-view',
      title: 'Prefetching',
      description: 'Patient, coverage and practitioner',
      prefetch: [
        { key: 'patient', query: 'Patient/{{context.patientId}}' },
        { key: 'coverage', query: 'Coverage?patient={{context.patientId}}' },
        { key: 'user', query: 'Practitioner/{{userPractitionerId}}' },
      ],
    },
    SCRIPT_BOT,
  );
  scripted = await h.deployService({ hook: 'patient-view', title: 'Scripted', description: 'Runs ops' }, SCRIPT_BOT);
});
afterAll(async () => h?.stop());
beforeEach(() => h.ehr.reset());

const withEhr = (scope: string, extra: Record<string, unknown> = {}) =>
  patientView({ fhirServer: h.ehr.fhirBase, fhirAuthorization: fhirAuthorization(scope), ...extra });

describe('prefetch', () => {
  const supplied = {
    patient: { resourceType: 'Patient', id: 'pat-a' },
    coverage: {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [{ resource: { resourceType: 'Coverage', id: 'cov-a', status: 'active' } }],
    },
    user: { resourceType: 'Practitioner', id: 'prac-1' },
  };

  it('uses prefetch the client supplied and calls the EHR for nothing', async () => {
    const s = seen(await h.invoke(prefetching, withEhr('patient/*.read', { prefetch: supplied })));
    expect(s.prefetch.patient?.id).toBe('pat-a');
    expect(h.ehr.requests).toEqual([]);
  });

  it('fetches missing keys from fhirServer with the EHR token, rendering context and user tokens', async () => {
    const s = seen(await h.invoke(prefetching, withEhr('user/*.read')));
    expect(h.ehr.requests.map((r) => r.path).sort()).toEqual([
      'Coverage?patient=pat-a',
      'Patient/pat-a',
      'Practitioner/prac-1',
    ]);
    for (const r of h.ehr.requests) expect(r.authorization).toBe(`Bearer ${EHR_TOKEN}`);
    expect(s.prefetch.patient?.id).toBe('pat-a');
    expect(s.prefetch.user?.id).toBe('prac-1');
    const bundle = s.prefetch.coverage as { entry: { resource: { id: string } }[] };
    expect(bundle.entry.map((e) => e.resource.id)).toEqual(['cov-a']);
  });

  it('fetches keys sent as null or as an OperationOutcome, and only those', async () => {
    const s = seen(
      await h.invoke(
        prefetching,
        withEhr('user/*.read', {
          prefetch: {
            patient: null,
            coverage: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] },
            user: supplied.user,
          },
        }),
      ),
    );
    expect(h.ehr.requests.map((r) => r.path).sort()).toEqual(['Coverage?patient=pat-a', 'Patient/pat-a']);
    expect(s.prefetch.patient?.id).toBe('pat-a');
    expect(s.prefetch.coverage?.resourceType).toBe('Bundle');
  });

  it('sets null when the read finds nothing or a token has no value', async () => {
    const s = seen(
      await h.invoke(
        prefetching,
        withEhr('user/*.read', { context: { userId: 'PractitionerRole/r1', patientId: 'nobody' } }),
      ),
    );
    expect(s.prefetch.patient).toBeNull();
    expect(s.prefetch.user).toBeNull();
    expect(h.ehr.calls('Practitioner')).toEqual([]);
  });

  it('answers 412 naming the key when data is missing and there is no fhirServer to fetch it from', async () => {
    const res = await h.invoke(prefetching, patientView({ prefetch: { patient: supplied.patient } }));
    expect(res.status).toBe(412);
    expect(expressions(res).sort()).toEqual(['prefetch.coverage', 'prefetch.user']);
  });

  it('keeps an explicit null when there is no fhirServer: the client said there is no data', async () => {
    const s = seen(
      await h.invoke(prefetching, patientView({ prefetch: { patient: supplied.patient, coverage: null, user: null } })),
    );
    expect(s.prefetch.coverage).toBeNull();
  });

  for (const [name, failure] of [
    ['answers 500', { status: 500 }],
    ['refuses the token (401)', { status: 401 }],
    ['is slower than the prefetch deadline', { delayMs: 6000, status: 200, pathPrefix: 'Coverage' }],
  ] as const) {
    it(`answers 412 when the EHR ${name}`, async () => {
      h.ehr.failure = failure;
      const res = await h.invoke(prefetching, withEhr('user/*.read'));
      expect(res.status, JSON.stringify(res.body)).toBe(412);
      expect(expressions(res)).toContain('prefetch.coverage');
    });
  }
});

type Op = {
  kind: 'read' | 'search' | 'create';
  type?: string;
  id?: string;
  query?: Record<string, string>;
  client?: 'payer';
  resource?: unknown;
};

async function run(scope: string | undefined, ops: Op[], extra: Record<string, unknown> = {}) {
  const body =
    scope === undefined
      ? patientView({ extension: { ops }, ...extra })
      : withEhr(scope, { extension: { ops }, ...extra });
  return seen(await h.invoke(scripted, body)).results;
}

const read = (type: string, id: string): Op => ({ kind: 'read', type, id });
const search = (type: string, query: Record<string, string> = {}): Op => ({ kind: 'search', type, query });

describe('the EHR client is limited to the fhirAuthorization scopes', () => {
  it('patient/Coverage.read: reads the context patient Coverage; other types and other patients are refused', async () => {
    const results = await run('patient/Coverage.read', [
      read('Coverage', 'cov-a'),
      search('Coverage'),
      read('MedicationRequest', 'mr-a1'),
      read('Patient', 'pat-a'),
      read('Coverage', 'cov-b'),
      search('Coverage', { patient: 'Patient/pat-b' }),
    ]);
    expect(results[0]).toEqual({ ok: true, id: 'cov-a' });
    expect(results[1]).toEqual({ ok: true, ids: ['cov-a'] });
    expect(results[2]?.ok).toBe(false);
    expect(results[2]?.error).toMatch(/scope does not allow read of MedicationRequest/);
    expect(results[3]?.ok).toBe(false);
    expect(results[4]).toMatchObject({ ok: false, error: expect.stringMatching(/context patient/) });
    expect(results[5]).toMatchObject({ ok: false, error: expect.stringMatching(/context patient/) });
    expect(h.ehr.calls('MedicationRequest')).toEqual([]);
    expect(h.ehr.calls('Patient')).toEqual([]);
    expect(h.ehr.calls('Coverage?').map((r) => r.path)).toEqual(['Coverage?patient=Patient%2Fpat-a']);
    for (const r of h.ehr.requests) expect(r.authorization).toBe(`Bearer ${EHR_TOKEN}`);
  });

  it('uses fhirAuthorization.patient as the context patient when given', async () => {
    const results = await run('patient/Coverage.read', [read('Coverage', 'cov-b')], {
      fhirAuthorization: fhirAuthorization('patient/Coverage.read', { patient: 'pat-b' }),
      context: { userId: 'Practitioner/prac-1', patientId: 'pat-b' },
    });
    expect(results[0]).toEqual({ ok: true, id: 'cov-b' });
  });

  it('SMART v1 patient/*.read: any type in the compartment, nothing outside it', async () => {
    const results = await run('patient/*.read', [
      read('MedicationRequest', 'mr-a1'),
      read('MedicationRequest', 'mr-b1'),
      read('Practitioner', 'prac-1'),
      read('Patient', 'pat-b'),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, false, false]);
    expect(h.ehr.calls('Practitioner')).toEqual([]);
    expect(h.ehr.calls('Patient')).toEqual([]);
  });

  it('SMART v1 user/Coverage.read: any Coverage the EHR lets the user see', async () => {
    const results = await run('user/Coverage.read', [
      read('Coverage', 'cov-b'),
      search('Coverage', { patient: 'pat-b' }),
    ]);
    expect(results).toEqual([
      { ok: true, id: 'cov-b' },
      { ok: true, ids: ['cov-b'] },
    ]);
  });

  it('SMART v2: .rs grants read and search; .s search only; .c nothing to read', async () => {
    const rs = await run('patient/Coverage.rs', [read('Coverage', 'cov-a'), search('Coverage')]);
    expect(rs.map((r) => r.ok)).toEqual([true, true]);
    h.ehr.reset();
    const s = await run('patient/Coverage.s', [read('Coverage', 'cov-a'), search('Coverage')]);
    expect(s.map((r) => r.ok)).toEqual([false, true]);
    expect(h.ehr.calls('Coverage/')).toEqual([]);
    h.ehr.reset();
    const c = await run('patient/Coverage.c', [read('Coverage', 'cov-a'), search('Coverage')]);
    expect(c.map((r) => r.ok)).toEqual([false, false]);
    expect(h.ehr.requests).toEqual([]);
  });

  it('SMART v2 query scopes: only searches carrying the query; reads proven by a search', async () => {
    const results = await run('user/MedicationRequest.rs?status=active', [
      search('MedicationRequest', { status: 'active', patient: 'pat-a' }),
      search('MedicationRequest', { patient: 'pat-a' }),
      read('MedicationRequest', 'mr-a1'),
    ]);
    expect(results[0]).toEqual({ ok: true, ids: ['mr-a1'] });
    expect(results[1]).toMatchObject({ ok: false, error: expect.stringMatching(/only with status=active/) });
    expect(results[2]).toEqual({ ok: true, id: 'mr-a1' });
    const paths = h.ehr.calls('MedicationRequest').map((r) => r.path);
    expect(paths).toHaveLength(2);
    expect(paths.every((p) => p.includes('status=active'))).toBe(true);
  });

  it('non-SMART scopes (an EHR API name list): reads and searches inside the context patient compartment only', async () => {
    const results = await run('Patient.Read Coverage.Search epic.cds.read', [
      read('Patient', 'pat-a'),
      read('Coverage', 'cov-a'),
      search('MedicationRequest'),
      read('Coverage', 'cov-b'),
      read('Patient', 'pat-b'),
      read('Practitioner', 'prac-1'),
      { kind: 'create', resource: { resourceType: 'Coverage', status: 'active' } },
    ]);
    expect(results.slice(0, 3)).toEqual([
      { ok: true, id: 'pat-a' },
      { ok: true, id: 'cov-a' },
      { ok: true, ids: ['mr-a1'] },
    ]);
    expect(results.slice(3).map((r) => r.ok)).toEqual([false, false, false, false]);
    expect(h.ehr.calls('Patient/pat-b')).toEqual([]);
    expect(h.ehr.calls('Practitioner')).toEqual([]);
    expect(h.ehr.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('SMART non-resource scopes alone (openid fhirUser launch) grant no FHIR access', async () => {
    const results = await run('openid fhirUser launch', [read('Patient', 'pat-a'), search('Coverage')]);
    expect(results.map((r) => r.ok)).toEqual([false, false]);
    const missing = await run('', [read('Patient', 'pat-a')]);
    expect(missing[0]?.ok).toBe(false);
    expect(h.ehr.requests).toEqual([]);
  });

  it('without fhirAuthorization the bot reaches nothing of the EHR', async () => {
    const body = patientView({
      fhirServer: h.ehr.fhirBase,
      extension: { ops: [read('Patient', 'pat-a'), search('Coverage')] },
    });
    const s = seen(await h.invoke(scripted, body));
    expect(s.hasAuthorization).toBe(false);
    expect(s.results.map((r) => r.ok)).toEqual([false, false]);
    expect(s.results[0]?.error).toMatch(/no fhirAuthorization/);
    expect(h.ehr.requests).toEqual([]);
  });

  it('the EHR client never writes, whatever the scopes', async () => {
    const results = await run('user/*.*', [
      { kind: 'create', resource: { resourceType: 'Coverage', status: 'active' } },
    ]);
    expect(results[0]?.ok).toBe(false);
    expect(h.ehr.requests).toEqual([]);
  });
});

describe('the payer client (third handler argument)', () => {
  it('reads the project data read-only, never with the EHR token, and is refused writes', async () => {
    const created = await request<{ id: string }>(`${h.fhir}/Coverage`, {
      method: 'POST',
      token: h.token,
      json: {
        resourceType: 'Coverage',
        status: 'active',
        beneficiary: { reference: 'Patient/pat-a' },
        payor: [{ reference: 'Organization/o1' }],
      },
    });
    expect(created.status).toBe(201);
    const body = withEhr('patient/Coverage.read', {
      extension: {
        ops: [
          { kind: 'read', type: 'Coverage', id: created.body.id, client: 'payer' },
          { kind: 'search', type: 'Coverage', query: { _id: created.body.id }, client: 'payer' },
          { kind: 'create', resource: { resourceType: 'Coverage', status: 'active' }, client: 'payer' },
        ],
      },
    });
    const s = seen(await h.invoke(scripted, body));
    expect(s.clients).toEqual(['medplum', 'payer']);
    expect(s.results[0]).toEqual({ ok: true, id: created.body.id });
    expect(s.results[1]).toEqual({ ok: true, ids: [created.body.id] });
    expect(s.results[2]).toMatchObject({ ok: false, error: expect.stringMatching(/not allowed/) });
    expect(h.ehr.requests).toEqual([]);
  });
});
