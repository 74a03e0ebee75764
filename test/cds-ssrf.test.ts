/**
 * The SSRF guard on `fhirServer`: https only, public addresses only, unless the project lists the base URL; a
 * listed loopback URL only in development mode. Nothing is ever sent to a refused server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EHR_TOKEN } from './support/ehr-server.js';
import {
  expressions,
  fhirAuthorization,
  patientView,
  PREFETCHING_SERVICE,
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
  prefetching = await h.deployService(PREFETCHING_SERVICE, SCRIPT_BOT);
  scripted = await h.deployService({ hook: 'patient-view', title: 'Scripted', description: 'Runs ops' }, SCRIPT_BOT);
});
afterAll(async () => h?.stop());
beforeEach(() => h.ehr.reset());

const port = () => new URL(h.ehr.origin).port;

describe('fhirServer is checked before anything is fetched from it', () => {
  const refused: [string, () => string][] = [
    ['plain http to a public host', () => 'http://ehr.example.org/fhir'],
    ['a private address', () => 'https://10.1.2.3/fhir'],
    ['a link-local (cloud metadata) address', () => 'https://169.254.169.254/latest'],
    ['loopback not listed by the project', () => `https://127.0.0.1:${port()}/fhir`],
    ['loopback on another port than the listed one', () => `http://127.0.0.1:${Number(port()) + 1}/fhir`],
    ['a listed origin with credentials', () => `http://user:pw@127.0.0.1:${port()}/fhir`],
    ['IPv6 loopback', () => `https://[::1]:${port()}/fhir`],
  ];
  for (const [name, url] of refused) {
    it(`refuses ${name} (400 at fhirServer, nothing sent)`, async () => {
      const res = await h.invoke(
        prefetching,
        patientView({ fhirServer: url(), fhirAuthorization: fhirAuthorization('patient/*.read') }),
      );
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(expressions(res)).toContain('fhirServer');
      expect((res.body.issue as { code: string }[])[0]?.code).toBe('security');
      expect(h.ehr.requests).toEqual([]);
    });
  }

  it('refuses a bot call to a refused fhirServer inside the bot, and sends nothing', async () => {
    const s = seen(
      await h.invoke(
        scripted,
        patientView({
          fhirServer: 'http://ehr.example.org/fhir',
          fhirAuthorization: fhirAuthorization('patient/*.read'),
          extension: { ops: [{ kind: 'read', type: 'Patient', id: 'pat-a' }] },
        }),
      ),
    );
    expect(s.results[0]).toMatchObject({ ok: false, error: expect.stringMatching(/https/) });
  });

  it('allows the listed loopback base URL in development mode', async () => {
    const s = seen(
      await h.invoke(
        prefetching,
        patientView({ fhirServer: h.ehr.fhirBase, fhirAuthorization: fhirAuthorization('patient/*.read') }),
      ),
    );
    expect(s.prefetch.patient?.id).toBe('pat-a');
    expect(h.ehr.calls('Patient/pat-a')[0]?.authorization).toBe(`Bearer ${EHR_TOKEN}`);
  });

  it('does not check a fhirServer it never calls (prefetch complete, the bot reads nothing)', async () => {
    const res = await h.invoke(
      prefetching,
      patientView({
        fhirServer: 'https://example/r4',
        fhirAuthorization: fhirAuthorization('patient/*.read'),
        prefetch: { patient: { resourceType: 'Patient', id: 'pat-a' } },
      }),
    );
    expect(res.status).toBe(200);
  });
});

describe('outside development mode', () => {
  let prod: CdsHarness;
  let id: string;

  beforeAll(async () => {
    prod = await startCdsHarness({ env: { NODE_ENV: 'production' } });
    id = await prod.deployService(PREFETCHING_SERVICE, SCRIPT_BOT);
  });
  afterAll(async () => prod?.stop());

  it('refuses a loopback fhirServer even when the project lists it', async () => {
    const res = await prod.invoke(
      id,
      patientView({ fhirServer: prod.ehr.fhirBase, fhirAuthorization: fhirAuthorization('patient/*.read') }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(expressions(res)).toContain('fhirServer');
    expect(JSON.stringify(res.body)).toMatch(/development/);
    expect(prod.ehr.requests).toEqual([]);
  });
});
