/**
 * Prior authorization end to end, through HTTP against the real server, on PGlite and on PostgreSQL + Redis:
 * `Claim/$submit` decided by a bound bot, request validation, tenant isolation and failing bots.
 */
import type { Bundle, ClaimResponse, CommunicationRequest, OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import { itemResults, requestWith, seedRequest } from './support/pas.js';
import { startTestServer, type TestServer } from './support/server.js';

/** A coded adjudication bot: CPT 93451/93456 certified with documentation, pended without, anything else declined. */
const CODED_BOT = `
exports.handler = async (medplum, event) => {
  const { claim, sequences, member } = event.input;
  const coverage = await medplum.readResource('Coverage', member.coverage.id);
  const group = (coverage.class || []).find((c) => c.value)?.value;
  const documented = (claim.supportingInfo || []).some((s) => s.valueReference) || event.input.attachments.length > 0;
  return {
    items: sequences.map((sequence) => {
      const item = claim.item.find((i) => i.sequence === sequence);
      const code = item.productOrService.coding[0].code;
      if (group !== 'GRP2245' || !['93451', '93456'].includes(code)) return { sequence, action: 'A3', reasonCodes: ['A7'] };
      if (!documented) return { sequence, action: 'A4', documentation: [{ code: '11506-3', text: 'Cardiology progress note' }] };
      return { sequence, action: 'A1', authorizationNumber: 'AUTH1001', issueDate: '2021-08-23', period: { start: '2021-08-23', end: '2021-09-23' } };
    }),
  };
};`;

interface Tenant {
  token: string;
}

describe.each([
  { store: 'pglite' as const, redis: false },
  { store: 'postgres' as const, redis: true },
])('prior authorization on $store', ({ store, redis }) => {
  let t: TestServer;
  let demo: Tenant;
  const fhir = () => `${t.url}/fhir/R4`;
  const submit = (bundle: unknown, token = demo.token) =>
    request<Bundle>(`${fhir()}/Claim/$submit`, { method: 'POST', token, json: bundle });

  async function deployBot(token: string, name: string, code: string): Promise<string> {
    const bot = await request<{ id: string }>(`${fhir()}/Bot`, {
      method: 'POST',
      token,
      json: { resourceType: 'Bot', name },
    });
    expect(bot.status).toBe(201);
    const deployed = await request(`${fhir()}/Bot/${bot.body.id}/$deploy`, { method: 'POST', token, json: { code } });
    expect(deployed.status).toBe(200);
    return bot.body.id;
  }

  async function bind(token: string, botId: string) {
    const res = await request(`${fhir()}/Bot/${botId}/$bind-pas`, { method: 'POST', token, json: {} });
    expect(res.status).toBe(200);
  }

  async function newTenant(name: string): Promise<Tenant & { projectId: string }> {
    const adminToken = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const res = await request<{ project: { id: string }; client: { clientId: string; clientSecret: string } }>(
      `${t.url}/admin/projects`,
      { method: 'POST', token: adminToken, json: { name } },
    );
    expect(res.status).toBe(201);
    return {
      projectId: res.body.project.id,
      token: await getToken(t.url, res.body.client.clientId, res.body.client.clientSecret),
    };
  }

  /** A new tenant with the seed's member (its Patient and Coverage) and its own adjudication bot. */
  async function tenantWithMember(name: string, botCode: string): Promise<Tenant & { botId: string }> {
    const tenant = await newTenant(name);
    const coverage = JSON.parse(
      JSON.stringify(seedRequest().entry?.find((e) => e.resource?.resourceType === 'Coverage')?.resource),
    ) as Record<string, unknown>;
    delete coverage.subscriber;
    const patient = await request(`${fhir()}/Patient/RedoxPABeneficiaryExample`, {
      method: 'PUT',
      token: tenant.token,
      json: { resourceType: 'Patient', id: 'RedoxPABeneficiaryExample' },
    });
    expect(patient.status).toBe(201);
    expect((await request(`${fhir()}/Coverage`, { method: 'POST', token: tenant.token, json: coverage })).status).toBe(
      201,
    );
    const botId = await deployBot(tenant.token, name, botCode);
    await bind(tenant.token, botId);
    return { ...tenant, botId };
  }

  async function countStored(type: string, token = demo.token): Promise<number> {
    const res = await request<Bundle>(`${fhir()}/${type}?_summary=count`, { token });
    return res.body.total ?? 0;
  }

  beforeAll(async () => {
    t = await startTestServer({ store, redis });
    demo = { token: await getToken(t.url, t.demo.clientId, t.demo.clientSecret) };
  });
  afterAll(async () => t?.stop());

  it("answers the seed's Claim Bundle with A1, its authorization number and period, ClaimResponse first", async () => {
    const res = await submit(seedRequest());
    expect(res.status).toBe(200);
    const bundle = res.body;
    expect(bundle.type).toBe('collection');
    const cr = bundle.entry?.[0]?.resource as ClaimResponse;
    expect(cr.resourceType).toBe('ClaimResponse');
    expect(cr.outcome).toBe('complete');
    expect(cr.preAuthRef).toBeTruthy();
    // The demo project's bound rule set (examples/rules/pas-cardiac-cath.json): certified for 31 days.
    const [item] = itemResults(bundle);
    expect(item?.code).toBe('A1');
    expect(item?.number).toBe(`${cr.preAuthRef}-1`);
    const { start = '', end = '' } = item?.period ?? {};
    expect((Date.parse(end) - Date.parse(start)) / 86_400_000).toBe(31);
    expect(item?.adminRef).toBeUndefined();
    // Echoed resources keep the request's fullUrl; everything the ClaimResponse references is included.
    const urls = bundle.entry?.map((e) => e.fullUrl) ?? [];
    for (const ref of [cr.patient?.reference, cr.insurer?.reference, cr.requestor?.reference, cr.request?.reference]) {
      expect(urls).toContain(`http://ehr.example.org/fhir/${ref}`);
    }
    // The trace number is echoed on the item.
    expect(cr.item?.[0]?.extension?.some((e) => e.url.endsWith('itemTraceNumber'))).toBe(true);
    // Stored: the ClaimResponse can be read back in the project.
    const stored = await request<ClaimResponse>(`${fhir()}/ClaimResponse/${cr.id}`, { token: demo.token });
    expect(stored.status).toBe(200);
    expect(stored.body.patient?.reference).toBe('Patient/RedoxPABeneficiaryExample');
  });

  it('declines an uncovered code with A3 and pends an undocumented one with A4 and a CommunicationRequest', async () => {
    const declined = await submit(requestWith({ codes: ['99213'], identifier: 'uncovered-1' }));
    expect(declined.status).toBe(200);
    expect(itemResults(declined.body).map((i) => i.code)).toEqual(['A3']);

    const pended = await submit(requestWith({ withoutDocuments: true, identifier: 'undocumented-1' }));
    expect(pended.status).toBe(200);
    const [item] = itemResults(pended.body);
    expect(item?.code).toBe('A4');
    expect(item?.adminRef).toBeTruthy();
    const cr = pended.body.entry?.[0]?.resource as ClaimResponse;
    expect(cr.outcome).toBe('partial');
    const commRef = cr.communicationRequest?.[0]?.reference;
    const comm = pended.body.entry?.find((e) => e.fullUrl === commRef)?.resource as CommunicationRequest;
    expect(comm?.resourceType).toBe('CommunicationRequest');
    expect(comm.reasonCode?.[0]?.coding?.[0]?.code).toBe('11506-3');
  });

  it('answers 4xx with one OperationOutcome and stores nothing for bundles it cannot process', async () => {
    const before = await countStored('Claim');
    const empty = await submit({
      resourceType: 'Bundle',
      type: 'collection',
      identifier: { value: 'x' },
      timestamp: '2024-01-01T00:00:00Z',
      entry: [],
    });
    expect(empty.status).toBe(400);
    expect((empty.body as unknown as OperationOutcome).resourceType).toBe('OperationOutcome');

    const dangling = seedRequest();
    dangling.entry = dangling.entry?.filter((e) => e.resource?.resourceType !== 'Organization');
    delete dangling.timestamp;
    const res = await submit(dangling);
    expect(res.status).toBe(400);
    const outcome = res.body as unknown as OperationOutcome;
    const expressions = outcome.issue.flatMap((i) => i.expression ?? []);
    // Every problem at once: the missing timestamp and each dangling reference, located by FHIRPath.
    expect(expressions).toContain('Bundle.timestamp');
    expect(expressions).toContain('Bundle.entry[0].resource.insurer');
    expect(expressions).toContain('Bundle.entry[0].resource.provider');

    const unknownMember = seedRequest();
    const coverage = unknownMember.entry?.find((e) => e.resource?.resourceType === 'Coverage')?.resource as {
      subscriberId?: string;
    };
    coverage.subscriberId = 'NOBODY-1';
    const unknown = await submit(unknownMember);
    expect(unknown.status).toBe(422);
    expect((unknown.body as unknown as OperationOutcome).issue[0]?.expression?.[0]).toMatch(/subscriberId$/);

    // A Parameters wrapper is read like the bare Bundle.
    const wrapped = await submit({
      resourceType: 'Parameters',
      parameter: [{ name: 'resource', resource: { resourceType: 'Bundle', entry: [] } }],
    });
    expect(wrapped.status).toBe(400);
    expect(await countStored('Claim')).toBe(before);
  });

  it("never finds another tenant's member, and stores nothing for such a claim", async () => {
    const other = await newTenant(`pas-other-${store}`);
    // The other tenant has its own member M999; the demo tenant must not find it.
    const created = await request(`${fhir()}/Coverage`, {
      method: 'POST',
      token: other.token,
      json: {
        resourceType: 'Coverage',
        status: 'active',
        subscriberId: 'M999',
        beneficiary: { reference: 'Patient/p1' },
        payor: [{ reference: 'Organization/o1' }],
      },
    });
    expect(created.status).toBe(201);
    const before = await countStored('Claim');
    const bundle = seedRequest();
    const coverage = bundle.entry?.find((e) => e.resource?.resourceType === 'Coverage')?.resource as {
      subscriberId?: string;
    };
    coverage.subscriberId = 'M999';
    const res = await submit(bundle);
    expect(res.status).toBe(422);
    expect(await countStored('Claim')).toBe(before);
    // And the other tenant cannot see the demo tenant's member either.
    const fromOther = await submit(seedRequest(), other.token);
    expect(fromOther.status).toBe(422);
    expect(await countStored('Claim', other.token)).toBe(0);
  });

  it("decides with a coded bot that reads the payer's own data", async () => {
    const tenant = await tenantWithMember(`pas-coded-${store}`, CODED_BOT);
    const res = await submit(seedRequest(), tenant.token);
    expect(res.status).toBe(200);
    expect(itemResults(res.body)).toEqual([
      {
        sequence: 1,
        code: 'A1',
        number: 'AUTH1001',
        period: { start: '2021-08-23', end: '2021-09-23' },
        adminRef: undefined,
      },
    ]);
  });

  it('pends the items and audits the failure when the bound bot throws', async () => {
    const other = await tenantWithMember(
      `pas-throws-${store}`,
      'exports.handler = async () => { throw new Error("rules engine down"); };',
    );
    const botId = other.botId;
    const res = await submit(seedRequest(), other.token);
    expect(res.status).toBe(200);
    expect(itemResults(res.body).map((i) => i.code)).toEqual(['A4']);
    const cr = res.body.entry?.[0]?.resource as ClaimResponse;
    expect(cr.processNote?.map((n) => n.text).join(' ')).toMatch(/adjudication bot failed/);
    let events: { outcome?: string; outcomeDesc?: string }[] = [];
    for (let i = 0; i < 50 && events.length === 0; i++) {
      const audit = await request<Bundle>(`${fhir()}/AuditEvent?entity=Bot/${botId}`, { token: other.token });
      events = (audit.body.entry ?? []).map((e) => e.resource as { outcome?: string; outcomeDesc?: string });
      if (events.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(events[0]?.outcome).toBe('4');
    expect(events[0]?.outcomeDesc).toMatch(/rules engine down/);
  });
});
