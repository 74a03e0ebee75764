/**
 * The demo services in `examples/services/<name>/` (bot.json + bot.js, the layout the server seeds the demo
 * project from), deployed over HTTP and called with their sample requests in `examples/requests/`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { validateCdsResponse } from '@hookbot/bots';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './support/http.js';
import { fhirAuthorization, startCdsHarness, type CdsHarness } from './support/cds.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../examples');
const COVERAGE_INFO = 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';

let h: CdsHarness;
const ids: Record<string, string> = {};
const services: Record<string, { cdsService: { hook: string; crd?: boolean } }> = {};

const sample = (file: string) =>
  JSON.parse(readFileSync(path.join(EXAMPLES, 'requests', file), 'utf8')) as Record<string, unknown>;

type Card = {
  summary: string;
  indicator: string;
  source: { topic?: { code: string } };
  suggestions?: { actions: { type: string; resource: Record<string, unknown> }[] }[];
};
type Action = {
  type: string;
  resource: {
    extension: {
      url: string;
      extension: { url: string; valueCode?: string; valueReference?: { reference: string } }[];
    }[];
  };
};

async function call(name: string, body: Record<string, unknown>) {
  const res = await h.invoke(ids[name] as string, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const service = services[name] as { cdsService: { hook: string; crd?: boolean } };
  const check = validateCdsResponse(res.body, { hook: service.cdsService.hook, crd: service.cdsService.crd === true });
  expect(check.errors).toEqual([]);
  return res.body as { cards: Card[]; systemActions?: Action[] };
}

const part = (action: Action | undefined, url: string) =>
  action?.resource.extension.find((e) => e.url === COVERAGE_INFO)?.extension.find((p) => p.url === url);

beforeAll(async () => {
  h = await startCdsHarness();
  for (const name of readdirSync(path.join(EXAMPLES, 'services'))) {
    const dir = path.join(EXAMPLES, 'services', name);
    const bot = JSON.parse(readFileSync(path.join(dir, 'bot.json'), 'utf8')) as {
      cdsService: { hook: string; crd?: boolean };
    };
    expect(bot).not.toHaveProperty('id');
    services[name] = bot;
    const created = await request<{ id: string }>(`${h.fhir}/Bot`, {
      method: 'POST',
      token: h.token,
      json: { resourceType: 'Bot', ...bot },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const code = readFileSync(path.join(dir, 'bot.js'), 'utf8');
    const deployed = await request(`${h.fhir}/Bot/${created.body.id}/$deploy`, {
      method: 'POST',
      token: h.token,
      json: { code, filename: 'bot.js' },
    });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
    ids[name] = created.body.id;
  }
});
afterAll(async () => h?.stop());

describe('demo services', () => {
  it('are all discoverable', async () => {
    const res = await request<{ services: { id: string }[] }>(`${h.t.url}/cds-services`, { token: h.token });
    expect(res.body.services.map((s) => s.id)).toEqual(expect.arrayContaining(Object.values(ids)));
    expect(Object.keys(ids).sort()).toEqual(['crd-prior-auth-93456', 'dose-check', 'patient-view-coverage']);
  });

  it('CRD prior auth: CPT 93456 under GRP2245 needs prior auth (coverage information + instructions card)', async () => {
    const body = await call('crd-prior-auth-93456', sample('crd-prior-auth-93456-order-sign.json'));
    expect(body.cards).toHaveLength(1);
    expect(body.cards[0]?.summary).toMatch(/Prior authorization required for CPT 93456/);
    expect(body.cards[0]?.source.topic?.code).toBe('coverage');
    const action = body.systemActions?.[0];
    expect(action?.type).toBe('update');
    expect(part(action, 'pa-needed')?.valueCode).toBe('auth-needed');
    expect(part(action, 'coverage')?.valueReference?.reference).toBe(
      'Coverage/RedoxPACoverageWithRelatedSubscriberExample',
    );
  });

  it('CRD prior auth: the rule-set sample requests (coverage as a single resource) give the same answer', async () => {
    const grp = await call('crd-prior-auth-93456', sample('order-sign-cpt-93456-grp2245.json'));
    expect(grp.cards).toHaveLength(1);
    expect(grp.systemActions?.map((a) => part(a, 'pa-needed')?.valueCode)).toEqual(['auth-needed', 'no-auth']);
    const other = await call('crd-prior-auth-93456', sample('order-sign-cpt-93456-other-plan.json'));
    expect(other.cards).toEqual([]);
    expect(other.systemActions?.every((a) => part(a, 'pa-needed')?.valueCode === 'no-auth')).toBe(true);
  });

  it('patient-view coverage: says what Coverage the prefetch holds', async () => {
    const body = await call('patient-view-coverage', sample('patient-view-coverage.json'));
    expect(body.cards[0]?.summary).toBe('Active coverage: group GRP2245, member M2346623');
    expect(body.cards[0]?.indicator).toBe('info');
  });

  it('patient-view coverage: fetches Coverage from the EHR when the client sent no prefetch', async () => {
    h.ehr.reset();
    const body = await call('patient-view-coverage', {
      hook: 'patient-view',
      hookInstance: '6a1c2f4e-2b7d-4d0e-8f51-7e3c9a2b1c02',
      fhirServer: h.ehr.fhirBase,
      fhirAuthorization: fhirAuthorization('patient/Patient.read patient/Coverage.read', { patient: 'pat-a' }),
      context: { userId: 'Practitioner/prac-1', patientId: 'pat-a' },
    });
    expect(body.cards[0]?.summary).toBe('Active coverage: group GRP2245');
    expect(h.ehr.calls('Coverage?')).toHaveLength(1);
  });

  it('dose check: suggests the plan limit with one update action', async () => {
    const body = await call('dose-check', sample('dose-check-amlodipine-order-sign.json'));
    expect(body.cards).toHaveLength(1);
    const card = body.cards[0] as Card;
    expect(card.indicator).toBe('warning');
    const action = card.suggestions?.[0]?.actions[0];
    expect(action?.type).toBe('update');
    const dose = (action?.resource.dosageInstruction as { doseAndRate: { doseQuantity: { value: number } }[] }[])[0]
      ?.doseAndRate[0]?.doseQuantity.value;
    expect(dose).toBe(10);
  });

  it('dose check: no card for a dose within the limit', async () => {
    const request = sample('dose-check-amlodipine-order-sign.json');
    const text = JSON.stringify(request).replace('"value":20', '"value":5');
    const body = await call('dose-check', JSON.parse(text) as Record<string, unknown>);
    expect(body.cards).toEqual([]);
  });
});
