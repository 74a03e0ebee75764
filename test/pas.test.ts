/**
 * Prior authorization end to end, through HTTP against the real server, on PGlite and on PostgreSQL + Redis:
 * `Claim/$submit` decided by a bound bot, request validation, tenant isolation and failing bots.
 */
import type {
  AuditEvent,
  Bundle,
  ClaimResponse,
  CommunicationRequest,
  OperationOutcome,
  Parameters,
} from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import {
  CPT,
  claimOf,
  coverageOf,
  demoClientToken,
  itemResults,
  PAS_STORES,
  requestWith,
  seedRequest,
  updateOf,
} from './support/pas.js';
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

describe.each(PAS_STORES)('prior authorization on $store', ({ store, redis }) => {
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
  async function tenantWithMember(
    name: string,
    botCode: string,
  ): Promise<Tenant & { botId: string; projectId: string }> {
    const tenant = await newTenant(name);
    const { subscriber: _subscriber, ...coverage } = coverageOf(seedRequest());
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

    const unknown = await submit(requestWith({ subscriberId: 'NOBODY-1' }));
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
    const res = await submit(requestWith({ subscriberId: 'M999' }));
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

  it('pends the items when the bound bot answers an invalid decision', async () => {
    const tenant = await tenantWithMember(
      `pas-invalid-${store}`,
      'exports.handler = async () => ({ items: [{ sequence: 1, action: "APPROVED" }] });',
    );
    const res = await submit(seedRequest(), tenant.token);
    expect(res.status).toBe(200);
    expect(itemResults(res.body).map((i) => i.code)).toEqual(['A4']);
    const cr = res.body.entry?.[0]?.resource as ClaimResponse;
    expect(cr.processNote?.map((n) => n.text).join(' ')).toMatch(/invalid decision/);
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

  const clientOf = (role: string, scope?: string) => demoClientToken(t, role, scope);

  /** The payer's reviewer: an administrator of the demo project. */
  const reviewer = () => clientOf('admin');

  const errorCodes = (outcome: OperationOutcome) =>
    (outcome.issue ?? []).flatMap((i) =>
      (i.details?.coding ?? [])
        .filter((c) => c.system === 'https://hookbot.dev/fhir/CodeSystem/error')
        .map((c) => c.code),
    );

  const crOf = (bundle: Bundle) => bundle.entry?.[0]?.resource as ClaimResponse;

  /** `$submit-attachment` for the request with Claim identifier `claimId`, as member `memberId`: one Attachment. */
  const submitAttachment = (claimId: string, memberId: string, part: unknown[]) =>
    request<OperationOutcome>(`${fhir()}/$submit-attachment`, {
      method: 'POST',
      token: demo.token,
      json: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'TrackingId', valueIdentifier: { system: 'urn:test:claim', value: claimId } },
          { name: 'AttachTo', valueCode: 'preauthorization' },
          { name: 'MemberId', valueIdentifier: { value: memberId } },
          { name: 'Attachment', part },
        ],
      },
    });

  it('certifies a pended request when its documentation arrives through $submit-attachment (a new version, audited)', async () => {
    const pended = await submit(requestWith({ withoutDocuments: true, identifier: 'attach-1' }));
    expect(itemResults(pended.body).map((i) => i.code)).toEqual(['A4']);
    const cr = crOf(pended.body);
    const attach = await submitAttachment('attach-1', 'M2346623', [
      { name: 'LineItem', valueString: '1' },
      { name: 'Code', valueCodeableConcept: { coding: [{ system: 'http://loinc.org', code: '11506-3' }] } },
      { name: 'Content', resource: { resourceType: 'Binary', contentType: 'text/plain', data: 'bm90ZQ==' } },
    ]);
    expect(attach.status, JSON.stringify(attach.body)).toBe(200);
    expect(attach.body.issue[0]?.diagnostics).toMatch(/item 1: A1/);
    const stored = await request<ClaimResponse>(`${fhir()}/ClaimResponse/${cr.id}`, { token: demo.token });
    expect(stored.body.meta?.versionId).toBe('2');
    const review = stored.body.item?.[0]?.adjudication?.[0]?.extension?.[0]?.extension?.[0]?.valueCodeableConcept;
    expect(review?.coding?.[0]?.code).toBe('A1');
    const audit = await request<Bundle>(`${fhir()}/AuditEvent?type=pas-decision`, { token: demo.token });
    const events = (audit.body.entry ?? []).map((e) => e.resource as AuditEvent);
    expect(
      events.some(
        (e) =>
          e.entity?.[0]?.what?.reference === `ClaimResponse/${cr.id}/_history/2` &&
          e.subtype?.[0]?.code === 'pas-attachment',
      ),
    ).toBe(true);
    // Another member's id finds nothing.
    const wrong = await submitAttachment('attach-1', 'SOMEONE-ELSE', [
      { name: 'Content', resource: { resourceType: 'Binary', contentType: 'text/plain' } },
    ]);
    expect(wrong.status).toBe(404);
  });

  it("lets only the payer's reviewer decide a pended request, never its submitter", async () => {
    const pended = await submit(requestWith({ withoutDocuments: true, identifier: 'review-1' }));
    const cr = crOf(pended.body);
    const decision = {
      items: [
        {
          sequence: 1,
          action: 'A1',
          authorizationNumber: 'REVIEW-1',
          period: { start: '2026-01-01', end: '2026-03-31' },
        },
      ],
    };
    const bySubmitter = await request(`${fhir()}/ClaimResponse/${cr.id}/$decide`, {
      method: 'POST',
      token: demo.token,
      json: decision,
    });
    expect(bySubmitter.status).toBe(403);
    const reviewerToken = await reviewer();
    const decided = await request<Bundle>(`${fhir()}/ClaimResponse/${cr.id}/$decide`, {
      method: 'POST',
      token: reviewerToken,
      json: decision,
    });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);
    expect(itemResults(decided.body)).toEqual([
      {
        sequence: 1,
        code: 'A1',
        number: 'REVIEW-1',
        period: { start: '2026-01-01', end: '2026-03-31' },
        adminRef: undefined,
      },
    ]);
    expect(crOf(decided.body).extension?.[0]?.extension?.[0]).toEqual({
      url: 'wasHumanReviewedFlag',
      valueBoolean: true,
    });
    const history = await request<Bundle>(`${fhir()}/ClaimResponse/${cr.id}/_history`, { token: demo.token });
    expect(history.body.entry?.length).toBe(2);
    // Another tenant's client, whatever its scopes, finds no such authorization.
    const stranger = await newTenant(`pas-stranger-${store}`);
    const foreign = await request(`${fhir()}/ClaimResponse/${cr.id}/$decide`, {
      method: 'POST',
      token: stranger.token,
      json: decision,
    });
    expect(foreign.status).toBe(404);
    const invalid = await request(`${fhir()}/ClaimResponse/${cr.id}/$decide`, {
      method: 'POST',
      token: reviewerToken,
      json: { items: [{ sequence: 9, action: 'A1' }] },
    });
    expect(invalid.status).toBe(400);
  });

  it('lets a partner submit and inquire and reach nothing else; only the payer decides, and only through $decide', async () => {
    const partner = await clientOf('partner');
    const pended = await submit(requestWith({ withoutDocuments: true, identifier: 'partner-1' }), partner);
    expect(pended.status, JSON.stringify(pended.body)).toBe(200);
    const cr = crOf(pended.body);
    const inquiry = seedRequest();
    claimOf(inquiry).extension = [
      {
        url: 'http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-authorizationNumber',
        valueString: cr.preAuthRef as string,
      },
    ];
    const found = await request<Parameters>(`${fhir()}/Claim/$inquire`, {
      method: 'POST',
      token: partner,
      json: inquiry,
    });
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.parameter ?? []).toHaveLength(1);

    // No other FHIR route, not even the ClaimResponse it was answered; no decision.
    for (const path of [`ClaimResponse/${cr.id}`, 'Patient', 'Bot']) {
      const res = await request<OperationOutcome>(`${fhir()}/${path}`, { token: partner });
      expect(res.status, path).toBe(403);
      expect(errorCodes(res.body)).toEqual(['auth.role-not-allowed']);
    }
    const decision = { items: [{ sequence: 1, action: 'A1', authorizationNumber: 'P-1' }] };
    const decide = (token: string) =>
      request<OperationOutcome>(`${fhir()}/ClaimResponse/${cr.id}/$decide`, { method: 'POST', token, json: decision });
    expect((await decide(partner)).status).toBe(403);
    // A partner registered without the pas scope, an EHR or a bot developer cannot submit.
    for (const [role, scope] of [['partner', 'cds-hooks'], ['ehr'], ['bot-developer']] as const) {
      const res = await submit(requestWith({ identifier: `partner-${role}` }), await clientOf(role, scope));
      expect(res.status, role).toBe(403);
    }

    // The payer's administrator, whatever its scopes, writes no ClaimResponse directly: $decide is the one way.
    const current = await request<ClaimResponse>(`${fhir()}/ClaimResponse/${cr.id}`, { token: demo.token });
    const put = await request<OperationOutcome>(`${fhir()}/ClaimResponse/${cr.id}`, {
      method: 'PUT',
      token: demo.token,
      json: { ...current.body, outcome: 'complete' },
    });
    expect(put.status).toBe(405);
    expect(errorCodes(put.body)).toEqual(['pas.claim-response-read-only']);
    const { id: _id, meta: _meta, ...copy } = current.body;
    const post = await request(`${fhir()}/ClaimResponse`, { method: 'POST', token: demo.token, json: copy });
    expect(post.status).toBe(405);
    const del = await request(`${fhir()}/ClaimResponse/${cr.id}`, { method: 'DELETE', token: demo.token });
    expect(del.status).toBe(405);
    const history = await request<Bundle>(`${fhir()}/ClaimResponse/${cr.id}/_history`, { token: demo.token });
    expect(history.body.entry).toHaveLength(1);
    const decided = await decide(await reviewer());
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);
  });

  it('runs the four-step update sequence, answering every item each time', async () => {
    const initial = requestWith({ codes: ['93451', '93456'], identifier: 'upd-0' });
    const r0 = await submit(initial);
    expect(itemResults(r0.body).map((i) => [i.sequence, i.code])).toEqual([
      [1, 'A1'],
      [2, 'A1'],
    ]);

    const added = updateOf(initial, 'upd-1', (claim) => {
      claim.item?.push({
        ...(claim.item[0] as NonNullable<typeof claim.item>[number]),
        sequence: 3,
        productOrService: { coding: [{ system: CPT, code: '99213' }] },
      });
    });
    const r1 = await submit(added);
    expect(r1.status, JSON.stringify(r1.body)).toBe(200);
    expect(itemResults(r1.body).map((i) => [i.sequence, i.code])).toEqual([
      [1, 'A1'],
      [2, 'A1'],
      [3, 'A3'],
    ]);
    expect(crOf(r1.body).id).toBe(crOf(r0.body).id);

    const changed = updateOf(added, 'upd-2', (claim) => {
      const [first, second] = claim.item ?? [];
      if (first)
        first.modifierExtension = [
          {
            url: 'http://hl7.org/fhir/us/davinci-pas/StructureDefinition/modifierextension-infoCancelled',
            valueBoolean: true,
          },
        ];
      if (second) {
        second.productOrService = { coding: [{ system: CPT, code: '93451' }] };
        second.extension = [
          ...(second.extension ?? []),
          { url: 'http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-infoChanged', valueCode: 'changed' },
        ];
      }
    });
    const r2 = await submit(changed);
    expect(r2.status, JSON.stringify(r2.body)).toBe(200);
    expect(itemResults(r2.body).map((i) => [i.sequence, i.code])).toEqual([
      [1, 'C'],
      [2, 'A1'],
      [3, 'A3'],
    ]);

    const cancelAll = updateOf(changed, 'upd-3', (claim) => {
      claim.extension = [
        ...(claim.extension ?? []),
        {
          url: 'http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-certificationType',
          valueCodeableConcept: { coding: [{ system: 'https://codesystem.x12.org/005010/1322', code: '3' }] },
        },
      ];
    });
    const r3 = await submit(cancelAll);
    expect(r3.status, JSON.stringify(r3.body)).toBe(200);
    expect(itemResults(r3.body).map((i) => [i.sequence, i.code])).toEqual([
      [1, 'C'],
      [2, 'C'],
      [3, 'C'],
    ]);
    const versions = await request<Bundle>(`${fhir()}/ClaimResponse/${crOf(r0.body).id}/_history`, {
      token: demo.token,
    });
    expect(versions.body.entry?.length).toBe(4);

    // A cancelled request, like a denied one, cannot be updated.
    const again = await submit(updateOf(cancelAll, 'upd-4', () => undefined));
    expect(again.status).toBe(422);
  });

  it('refuses to update a denied request', async () => {
    const denied = requestWith({ codes: ['99213'], identifier: 'denied-0' });
    expect(itemResults((await submit(denied)).body)[0]?.code).toBe('A3');
    const res = await submit(
      updateOf(denied, 'denied-1', (claim) => {
        const item = claim.item?.[0];
        if (item)
          item.extension = [
            ...(item.extension ?? []),
            {
              url: 'http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-infoChanged',
              valueCode: 'changed',
            },
          ];
      }),
    );
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toMatch(/denied request cannot be updated/);
  });

  it("finds the decision with $inquire, never another tenant's or another provider's", async () => {
    const submitted = await submit(requestWith({ identifier: 'inquire-1' }));
    const preAuthRef = crOf(submitted.body).preAuthRef as string;
    const inquiry = (bundle: Bundle) => {
      const claim = claimOf(bundle);
      claim.identifier = [{ system: 'urn:test:inquiry', value: 'trn-1' }];
      claim.extension = [
        {
          url: 'http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-authorizationNumber',
          valueString: preAuthRef,
        },
      ];
      return bundle;
    };
    const inquire = (token: string) =>
      request<Parameters>(`${fhir()}/Claim/$inquire`, { method: 'POST', token, json: inquiry(seedRequest()) });
    const found = await inquire(demo.token);
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.resourceType).toBe('Parameters');
    const returned = (found.body.parameter ?? []).map((p) => p.resource as Bundle);
    expect(returned).toHaveLength(1);
    expect(crOf(returned[0] as Bundle).preAuthRef).toBe(preAuthRef);
    expect(itemResults(returned[0] as Bundle)[0]?.code).toBe('A1');

    // Another client of the payer's project that is not the submitting provider finds nothing.
    const otherProvider = await inquire(await clientOf('partner'));
    expect(otherProvider.status).toBe(200);
    expect(otherProvider.body.parameter ?? []).toHaveLength(0);
    // Another tenant with the same member id finds nothing either.
    const other = await tenantWithMember(`pas-inquire-${store}`, CODED_BOT);
    const fromOther = await inquire(other.token);
    expect(fromOther.status).toBe(200);
    expect(fromOther.body.parameter ?? []).toHaveLength(0);
    // An empty inquiry Bundle is an error with an OperationOutcome.
    const empty = await request<OperationOutcome>(`${fhir()}/Claim/$inquire`, {
      method: 'POST',
      token: demo.token,
      json: { resourceType: 'Bundle', type: 'collection', entry: [] },
    });
    expect(empty.status).toBe(400);
    expect(empty.body.resourceType).toBe('OperationOutcome');
  });

  it("narrows $inquire by service dates: a request matches when its dates overlap the inquiry's", async () => {
    const dated = requestWith({ identifier: 'inquire-dates' });
    (claimOf(dated).item ?? []).forEach((i) => (i.servicedDate = '2026-03-10'));
    const preAuthRef = crOf((await submit(dated)).body).preAuthRef;
    const found = async (period: { start?: string; end?: string }, onItem = false) => {
      const inquiry = seedRequest();
      const claim = claimOf(inquiry);
      if (onItem) (claim.item ?? []).forEach((i) => (i.servicedPeriod = period));
      else claim.billablePeriod = period;
      const res = await request<Parameters>(`${fhir()}/Claim/$inquire`, {
        method: 'POST',
        token: demo.token,
        json: inquiry,
      });
      expect(res.status).toBe(200);
      return (res.body.parameter ?? []).map((p) => crOf(p.resource as Bundle).preAuthRef);
    };
    expect(await found({ start: '2026-03-01', end: '2026-03-31' })).toContain(preAuthRef);
    expect(await found({ start: '2026-03-10' }, true)).toContain(preAuthRef);
    expect(await found({ start: '2026-04-01', end: '2026-04-30' })).not.toContain(preAuthRef);
    expect(await found({ end: '2026-03-09' }, true)).not.toContain(preAuthRef);
  });

  it("never reaches another client's authorization by naming the same (public) provider NPI", async () => {
    const withNpi = (bundle: Bundle) => {
      const org = bundle.entry?.find((e) => e.resource?.id === 'RedoxPARequestorOrganizationExample')?.resource;
      (org as { identifier?: unknown }).identifier = [
        { system: 'http://hl7.org/fhir/sid/us-npi', value: '1999999984' },
      ];
      return bundle;
    };
    const submitted = await submit(withNpi(requestWith({ identifier: 'npi-1' })));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    const inquiry = withNpi(seedRequest());
    const inquire = (token: string) =>
      request<Parameters>(`${fhir()}/Claim/$inquire`, { method: 'POST', token, json: inquiry });
    expect((await inquire(demo.token)).body.parameter?.length ?? 0).toBeGreaterThan(0);
    const hostile = await clientOf('partner');
    const found = await inquire(hostile);
    expect(found.status).toBe(200);
    expect(found.body.parameter ?? []).toHaveLength(0);
  });

  it("gives the bot the member's history, but never lets its answer name another submitter's request", async () => {
    // Pends everything, naming every earlier authorization of the member it was shown.
    const echo = `exports.handler = async (medplum, event) => ({
      items: event.input.sequences.map((sequence) => ({ sequence, action: 'A4' })),
      note: 'Seen: ' + event.input.history.map((h) => h.preAuthRef + (h.sameSubmitter ? '(own)' : '')).join(' '),
    });`;
    const tenant = await tenantWithMember(`pas-history-${store}`, echo);
    const first = crOf((await submit(requestWith({ identifier: 'history-1' }), tenant.token)).body);
    const second = await submit(requestWith({ identifier: 'history-2' }), tenant.token);
    // Its own earlier request may be named back to the submitter.
    expect(JSON.stringify(second.body)).toContain(`${first.preAuthRef}(own)`);
    const adminToken = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const client = await request<{ clientId: string; clientSecret: string }>(
      `${t.url}/admin/projects/${tenant.projectId}/clients`,
      { method: 'POST', token: adminToken, json: { name: 'another-provider', role: 'partner' } },
    );
    expect(client.status).toBe(201);
    const partner = await getToken(t.url, client.body.clientId, client.body.clientSecret);
    const other = await submit(requestWith({ identifier: 'history-3' }), partner);
    expect(other.status).toBe(200);
    expect(JSON.stringify(other.body)).not.toContain(first.preAuthRef as string);
    expect(JSON.stringify(other.body)).not.toContain(crOf(second.body).preAuthRef as string);
    expect(itemResults(other.body).map((i) => i.code)).toEqual(['A4']);
    expect(JSON.stringify(crOf(other.body).processNote)).toMatch(/invalid decision/);
  });

  it('lists the PAS operations and Subscription interactions in the CapabilityStatement', async () => {
    const res = await request<{
      rest: {
        resource: {
          type: string;
          interaction: { code: string }[];
          operation?: { name: string }[];
          extension?: { valueCanonical?: string }[];
        }[];
        operation?: { name: string }[];
      }[];
    }>(`${t.url}/fhir/R4/metadata`);
    const rest = res.body.rest[0];
    const of = (type: string) => rest?.resource.find((r) => r.type === type);
    expect(of('Claim')?.operation?.map((o) => o.name)).toEqual(expect.arrayContaining(['submit', 'inquire']));
    expect(of('ClaimResponse')?.operation?.map((o) => o.name)).toContain('decide');
    expect(of('Subscription')?.interaction.map((i) => i.code)).toEqual(
      expect.arrayContaining(['create', 'update', 'delete']),
    );
    expect(of('Subscription')?.extension?.[0]?.valueCanonical).toBe(
      'http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic',
    );
    expect(rest?.operation?.map((o) => o.name)).toContain('submit-attachment');
  });
});
