/**
 * CDS Hooks feedback (`POST /cds-services/{id}/feedback`): validated, stored as AuditEvents the tenant can search
 * (`AuditEvent?subtype=cds-feedback`), `overrideReason` and Epic's `overrideReasons` both read, and per-card
 * acceptance at `GET /cds-feedback/stats`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './support/http.js';
import { expressions, SCRIPT_BOT, startCdsHarness, type CdsHarness } from './support/cds.js';

let h: CdsHarness;
let serviceId: string;

beforeAll(async () => {
  h = await startCdsHarness();
  serviceId = await h.deployService(
    { hook: 'patient-view', title: 'Feedback', description: 'Feedback target' },
    SCRIPT_BOT,
  );
});
afterAll(async () => h?.stop());

const send = (body: unknown, id = serviceId, token = h.token) =>
  request(`${h.t.url}/cds-services/${id}/feedback`, { method: 'POST', token, json: body });

type Event = {
  outcome: string;
  recorded: string;
  entity: { what: { reference: string }; detail: { type: string; valueString: string }[] }[];
};

async function feedbackEvents(card: string): Promise<Event[]> {
  const res = await request<{ entry?: { resource: Event }[] }>(
    `${h.fhir}/AuditEvent?subtype=cds-feedback&entity=Bot/${serviceId}&_count=100`,
    { token: h.token },
  );
  expect(res.status).toBe(200);
  return (res.body.entry ?? [])
    .map((e) => e.resource)
    .filter((e) => e.entity[0]?.detail.some((d) => d.type === 'card' && d.valueString === card));
}

const values = (event: Event | undefined, type: string) =>
  event?.entity[0]?.detail.filter((d) => d.type === type).map((d) => d.valueString) ?? [];

describe('feedback', () => {
  it('stores accepted feedback with its suggestions, searchable by subtype', async () => {
    const res = await send({
      feedback: [
        {
          card: 'card-accepted-1',
          outcome: 'accepted',
          acceptedSuggestions: [{ id: 'sugg-1' }],
          outcomeTimestamp: '2026-03-01T10:00:00Z',
        },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [event] = await feedbackEvents('card-accepted-1');
    expect(event?.entity[0]?.what.reference).toBe(`Bot/${serviceId}`);
    expect(values(event, 'outcome')).toEqual(['accepted']);
    expect(values(event, 'acceptedSuggestion')).toEqual(['sugg-1']);
    // recorded: when the server received it; the EHR's timestamp is a detail.
    expect(values(event, 'outcomeTimestamp')).toEqual(['2026-03-01T10:00:00.000Z']);
    expect(Date.now() - Date.parse(event?.recorded ?? '')).toBeLessThan(10 * 60_000);
  });

  it('reads overrideReason (CDS Hooks 2.0)', async () => {
    const res = await send({
      feedback: [
        {
          card: 'card-over-1',
          outcome: 'overridden',
          overrideReason: {
            reason: { system: 'http://acme.example.org/reasons', code: 'pt-declined', display: 'Patient declined' },
            userComment: 'Discussed',
          },
          outcomeTimestamp: '2026-03-01T10:05:00Z',
        },
      ],
    });
    expect(res.status).toBe(200);
    const [event] = await feedbackEvents('card-over-1');
    expect(values(event, 'overrideReason')).toEqual(['http://acme.example.org/reasons|pt-declined']);
    expect(values(event, 'overrideReasonDisplay')).toEqual(['Patient declined']);
    expect(values(event, 'userComment')).toEqual(['Discussed']);
  });

  it("reads Epic's overrideReasons", async () => {
    const res = await send({
      feedback: [
        {
          card: 'card-over-2',
          outcome: 'overridden',
          overrideReasons: [
            {
              reason: { system: 'http://acme.example.org/reasons', code: 'not-applicable', display: 'Not applicable' },
            },
          ],
          outcomeTimestamp: '2026-03-01T10:06:00Z',
        },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [event] = await feedbackEvents('card-over-2');
    expect(values(event, 'overrideReason')).toEqual(['http://acme.example.org/reasons|not-applicable']);
  });

  it('refuses invalid feedback naming the field, and stores none of a partly invalid request', async () => {
    const res = await send({
      feedback: [
        { card: 'card-partial-ok', outcome: 'accepted', outcomeTimestamp: '2026-03-01T10:00:00Z' },
        { card: 'card-partial-bad', outcome: 'ignored', outcomeTimestamp: '2026-03-01T10:00:00Z' },
      ],
    });
    expect(res.status).toBe(400);
    expect(expressions(res)).toContain('feedback[1].outcome');
    expect(await feedbackEvents('card-partial-ok')).toEqual([]);
    for (const body of [
      {},
      { feedback: [] },
      { feedback: [{ outcome: 'accepted', outcomeTimestamp: '2026-03-01T10:00:00Z' }] },
      'x',
      null,
    ]) {
      const bad = await send(body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('requires authentication and an existing service', async () => {
    const item = { feedback: [{ card: 'c', outcome: 'accepted', outcomeTimestamp: '2026-03-01T10:00:00Z' }] };
    const anonymous = await request(`${h.t.url}/cds-services/${serviceId}/feedback`, { method: 'POST', json: item });
    expect(anonymous.status).toBe(401);
    expect((await send(item, 'no-such-service')).status).toBe(404);
  });

  it('sums acceptance per service and card at /cds-feedback/stats', async () => {
    await send({
      feedback: [
        { card: 'card-stats', outcome: 'accepted', outcomeTimestamp: '2026-03-02T10:00:00Z' },
        { card: 'card-stats', outcome: 'accepted', outcomeTimestamp: '2026-03-02T10:01:00Z' },
        { card: 'card-stats', outcome: 'overridden', outcomeTimestamp: '2026-03-02T10:02:00Z' },
      ],
    });
    const res = await request<{
      services: {
        serviceId: string;
        accepted: number;
        overridden: number;
        cards: { card: string; accepted: number; overridden: number }[];
      }[];
    }>(`${h.t.url}/cds-feedback/stats`, { token: h.token });
    expect(res.status).toBe(200);
    const service = res.body.services.find((s) => s.serviceId === serviceId);
    expect(service?.cards.find((c) => c.card === 'card-stats')).toEqual({
      card: 'card-stats',
      accepted: 2,
      overridden: 1,
    });
    expect(service?.accepted).toBeGreaterThanOrEqual(3);
    expect((await request(`${h.t.url}/cds-feedback/stats`)).status).toBe(401);
  });

  it('counts only feedback the server recorded: AuditEvents written through the FHIR API never count', async () => {
    await send({
      feedback: [{ card: 'card-forged', outcome: 'overridden', outcomeTimestamp: '2026-03-03T10:00:00Z' }],
    });
    const before = await stats();
    const [genuine] = await feedbackEvents('card-forged');
    const { id: _id, meta, ...copy } = genuine as Event & { id: string; meta: { tag?: unknown[] } };
    expect(meta.tag).toHaveLength(1);
    const post = (event: unknown) => request(`${h.fhir}/AuditEvent`, { method: 'POST', token: h.token, json: event });
    const claimed = await post({ ...copy, meta });
    expect(claimed.status).toBe(403);
    const accepted = {
      ...copy,
      entity: [
        {
          ...copy.entity[0],
          detail: [
            { type: 'card', valueString: 'card-forged' },
            { type: 'outcome', valueString: 'accepted' },
          ],
        },
      ],
    };
    for (let i = 0; i < 5; i++) expect((await post(accepted)).status).toBe(201);
    expect(await stats()).toEqual(before);
    expect(await feedbackEvents('card-forged')).toHaveLength(6);
  });
});

async function stats(): Promise<unknown> {
  const res = await request<{ services: unknown[] }>(`${h.t.url}/cds-feedback/stats`, { token: h.token });
  expect(res.status).toBe(200);
  return res.body;
}
