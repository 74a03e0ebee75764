/**
 * Response validation before anything reaches the EHR: one test per rule, the bot returning the bad card; the 500
 * OperationOutcome names each violation by JSON path, and the invocation's AuditEvent records it. CRD services
 * (`cdsService.crd`) are held to the CRD rules as well.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  detail,
  expressions,
  patientView,
  SCRIPT_BOT,
  startCdsHarness,
  waitForAudit,
  type AuditLike,
  type CdsHarness,
} from './support/cds.js';

let h: CdsHarness;
let plain: string;
let crd: string;

beforeAll(async () => {
  h = await startCdsHarness();
  plain = await h.deployService(
    { hook: 'patient-view', title: 'Cards', description: 'Returns what it is told' },
    SCRIPT_BOT,
  );
  crd = await h.deployService(
    { hook: 'order-sign', title: 'CRD cards', description: 'CRD service', crd: true },
    SCRIPT_BOT,
  );
});
afterAll(async () => h?.stop());

const card = (extra: Record<string, unknown> = {}) => ({
  summary: 'Prior authorization required',
  indicator: 'info',
  source: { label: 'ACME Health' },
  ...extra,
});
const respond = (response: unknown) => h.invoke(plain, patientView({ extension: { respond: response } }));
const update = {
  type: 'update',
  description: 'Set the dose',
  resource: { resourceType: 'MedicationRequest', id: 'mr-a1', status: 'draft' },
};

async function expectViolation(response: unknown, path: string): Promise<void> {
  const res = await respond(response);
  expect(res.status, JSON.stringify(res.body)).toBe(500);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(expressions(res)).toContain(path);
}

describe('CDS Hooks response rules (500 with the JSON path of each violation)', () => {
  const rules: [string, unknown, string][] = [
    ['cards is required', {}, 'cards'],
    ['cards must be an array', { cards: { summary: 'x' } }, 'cards'],
    ['a card must be an object', { cards: ['just text'] }, 'cards[0]'],
    ['summary is required', { cards: [card({ summary: undefined })] }, 'cards[0].summary'],
    [
      'summary must be shorter than 140 characters',
      { cards: [card({ summary: 'x'.repeat(140) })] },
      'cards[0].summary',
    ],
    [
      'indicator must be info, warning or critical',
      { cards: [card({ indicator: 'hard-stop' })] },
      'cards[0].indicator',
    ],
    ['source is required', { cards: [card({ source: undefined })] }, 'cards[0].source'],
    [
      'source.label is required',
      { cards: [card({ source: { url: 'https://acme.example.org' } })] },
      'cards[0].source.label',
    ],
    [
      'source.url must be an absolute URL',
      { cards: [card({ source: { label: 'A', url: '/relative' } })] },
      'cards[0].source.url',
    ],
    ['detail must be a string', { cards: [card({ detail: 42 })] }, 'cards[0].detail'],
    ['uuid must be a string', { cards: [card({ uuid: 7 })] }, 'cards[0].uuid'],
    ['unknown card members are refused', { cards: [card({ detial: 'typo' })] }, 'cards[0].detial'],
    [
      'suggestions need selectionBehavior',
      { cards: [card({ suggestions: [{ label: 'Fix', uuid: 's1', actions: [update] }] })] },
      'cards[0].selectionBehavior',
    ],
    [
      'selectionBehavior must be at-most-one or any',
      { cards: [card({ selectionBehavior: 'all', suggestions: [{ label: 'Fix', actions: [update] }] })] },
      'cards[0].selectionBehavior',
    ],
    [
      'a suggestion needs a label',
      { cards: [card({ selectionBehavior: 'any', suggestions: [{ uuid: 's1', actions: [update] }] })] },
      'cards[0].suggestions[0].label',
    ],
    [
      'an action needs a valid type',
      {
        cards: [
          card({ selectionBehavior: 'any', suggestions: [{ label: 'Fix', actions: [{ ...update, type: 'upsert' }] }] }),
        ],
      },
      'cards[0].suggestions[0].actions[0].type',
    ],
    [
      'an action needs a description',
      {
        cards: [
          card({
            selectionBehavior: 'any',
            suggestions: [{ label: 'Fix', actions: [{ ...update, description: undefined }] }],
          }),
        ],
      },
      'cards[0].suggestions[0].actions[0].description',
    ],
    [
      'an action description must not be empty',
      {
        cards: [
          card({
            selectionBehavior: 'any',
            suggestions: [{ label: 'Fix', actions: [{ ...update, description: '' }] }],
          }),
        ],
      },
      'cards[0].suggestions[0].actions[0].description',
    ],
    [
      'create and update need a resource',
      {
        cards: [
          card({
            selectionBehavior: 'any',
            suggestions: [{ label: 'Fix', actions: [{ type: 'create', description: 'Add' }] }],
          }),
        ],
      },
      'cards[0].suggestions[0].actions[0].resource',
    ],
    [
      'a resource needs a resourceType',
      {
        cards: [
          card({
            selectionBehavior: 'any',
            suggestions: [{ label: 'Fix', actions: [{ ...update, resource: { id: 'x' } }] }],
          }),
        ],
      },
      'cards[0].suggestions[0].actions[0].resource',
    ],
    [
      'delete needs a resourceId',
      {
        cards: [
          card({
            selectionBehavior: 'any',
            suggestions: [{ label: 'Drop', actions: [{ type: 'delete', description: 'Drop it' }] }],
          }),
        ],
      },
      'cards[0].suggestions[0].actions[0].resourceId',
    ],
    [
      'resourceId must be Type/id',
      {
        cards: [
          card({
            selectionBehavior: 'any',
            suggestions: [
              { label: 'Drop', actions: [{ type: 'delete', description: 'Drop it', resourceId: 'mr-a1' }] },
            ],
          }),
        ],
      },
      'cards[0].suggestions[0].actions[0].resourceId',
    ],
    [
      'a link needs a label',
      { cards: [card({ links: [{ url: 'https://acme.example.org', type: 'absolute' }] })] },
      'cards[0].links[0].label',
    ],
    [
      'a link needs a valid url',
      { cards: [card({ links: [{ label: 'Policy', url: 'not a url', type: 'absolute' }] })] },
      'cards[0].links[0].url',
    ],
    [
      'a link type is absolute or smart',
      { cards: [card({ links: [{ label: 'Policy', url: 'https://acme.example.org', type: 'web' }] })] },
      'cards[0].links[0].type',
    ],
    [
      'appContext only on smart links',
      {
        cards: [
          card({ links: [{ label: 'Policy', url: 'https://acme.example.org', type: 'absolute', appContext: 'x' }] }),
        ],
      },
      'cards[0].links[0].appContext',
    ],
    [
      'overrideReasons are Codings with display',
      { cards: [card({ overrideReasons: [{ system: 'http://acme.example.org/reasons', code: 'na' }] })] },
      'cards[0].overrideReasons[0].display',
    ],
    [
      'overrideReasons need system and code',
      { cards: [card({ overrideReasons: [{ display: 'Not applicable' }] })] },
      'cards[0].overrideReasons[0].code',
    ],
    [
      'systemActions follow the action rules',
      { cards: [], systemActions: [{ type: 'update', description: 'x' }] },
      'systemActions[0].resource',
    ],
    [
      'systemActions need a type',
      { cards: [], systemActions: [{ description: 'x', resource: { resourceType: 'ServiceRequest' } }] },
      'systemActions[0].type',
    ],
    ['no null values', { cards: [card({ detail: null })] }, 'cards[0].detail'],
    ['no empty strings', { cards: [card({ source: { label: 'A', icon: '' } })] }, 'cards[0].source.icon'],
    ['no empty arrays', { cards: [card({ links: [] })] }, 'cards[0].links'],
    [
      'no empty objects',
      {
        cards: [
          card({
            selectionBehavior: 'any',
            suggestions: [
              { label: 'Fix', actions: [{ ...update, resource: { resourceType: 'MedicationRequest', meta: {} } }] },
            ],
          }),
        ],
      },
      'cards[0].suggestions[0].actions[0].resource.meta',
    ],
    ['the response must be an object', 'cards', ''],
  ];
  for (const [rule, response, path] of rules) {
    it(rule, async () => {
      if (path === '') {
        const res = await respond(response);
        expect(res.status).toBe(500);
        expect(res.body.resourceType).toBe('OperationOutcome');
        return;
      }
      await expectViolation(response, path);
    });
  }

  it('lists every violation, not only the first', async () => {
    const res = await respond({ cards: [card({ summary: undefined }), card({ indicator: 'loud', source: {} })] });
    expect(res.status).toBe(500);
    expect(expressions(res)).toEqual(
      expect.arrayContaining(['cards[0].summary', 'cards[1].indicator', 'cards[1].source.label']),
    );
  });

  it('records the invalid response in the AuditEvent', async () => {
    const res = await h.invoke(
      plain,
      patientView({
        hookInstance: '9c1d7a30-0000-4000-8000-00000000bad1',
        extension: { respond: { cards: [card({ indicator: 'loud' })] } },
      }),
    );
    expect(res.status).toBe(500);
    // Earlier tests audited this bot too: wait for this invocation's own event.
    const mine = (e: AuditLike) => detail(e, 'hookInstance') === '9c1d7a30-0000-4000-8000-00000000bad1';
    const events = await waitForAudit(h, `entity=Bot/${plain}&subtype=cds-hooks`, 1, (list) => list.some(mine));
    const event = events.find(mine);
    expect(event?.outcome).toBe('8');
    expect(event?.outcomeDesc).toMatch(/cards\[0\]\.indicator/);
  });

  it('passes a valid response, giving cards and suggestions without uuid one', async () => {
    const res = await respond({
      cards: [
        card({
          detail: 'Submit the request with the clinical notes.',
          selectionBehavior: 'any',
          suggestions: [{ label: 'Lower the dose', actions: [update] }],
          overrideReasons: [{ system: 'http://acme.example.org/reasons', code: 'na', display: 'Not applicable' }],
          links: [
            { label: 'Policy', url: 'https://acme.example.org/policy', type: 'absolute' },
            {
              label: 'DTR',
              url: 'https://acme.example.org/launch',
              type: 'smart',
              appContext: '{"questionnaire":"q1"}',
            },
          ],
        }),
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const cards = res.body.cards as { uuid: string; suggestions: { uuid: string }[] }[];
    expect(cards[0]?.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(cards[0]?.suggestions[0]?.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect((await respond({ cards: [] })).body).toEqual({ cards: [] });
  });
});

describe('CRD rules for a service marked crd', () => {
  const orderSign = (response: unknown) =>
    h.invoke(crd, {
      hook: 'order-sign',
      hookInstance: '5b0c3d0e-9a01-4cf5-9a4b-4f1c8a520a53',
      context: {
        userId: 'Practitioner/prac-1',
        patientId: 'pat-a',
        draftOrders: {
          resourceType: 'Bundle',
          type: 'collection',
          entry: [
            {
              resource: {
                resourceType: 'ServiceRequest',
                id: 'sr-a1',
                status: 'draft',
                intent: 'order',
                subject: { reference: 'Patient/pat-a' },
              },
            },
          ],
        },
      },
      extension: { respond: response },
    });
  const topic = {
    system: 'http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp',
    code: 'prior-auth',
    display: 'Prior authorization',
  };
  const coverageInfo = (parts: string[]) => ({
    type: 'update',
    description: 'Coverage information',
    resource: {
      resourceType: 'ServiceRequest',
      id: 'sr-a1',
      status: 'draft',
      intent: 'order',
      subject: { reference: 'Patient/pat-a' },
      extension: [
        {
          url: 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information',
          extension: parts.map((url) =>
            url === 'coverage'
              ? { url, valueReference: { reference: 'Coverage/cov-a' } }
              : url === 'covered'
                ? { url, valueCode: 'covered' }
                : url === 'date'
                  ? { url, valueDate: '2026-01-01' }
                  : { url, valueString: 'a1b2c3' },
          ),
        },
      ],
    },
  });
  const full = ['coverage', 'covered', 'date', 'coverage-assertion-id'];

  it('needs source.topic on every card', async () => {
    const res = await orderSign({ cards: [card()], systemActions: [coverageInfo(full)] });
    expect(res.status).toBe(500);
    expect(expressions(res)).toContain('cards[0].source.topic');
  });

  it('needs system and code in source.topic', async () => {
    const res = await orderSign({
      cards: [card({ source: { label: 'ACME', topic: { display: 'x' } } })],
      systemActions: [coverageInfo(full)],
    });
    expect(res.status).toBe(500);
    expect(expressions(res)).toEqual(
      expect.arrayContaining(['cards[0].source.topic.system', 'cards[0].source.topic.code']),
    );
  });

  it('needs a Coverage Information systemAction for order-sign', async () => {
    const res = await orderSign({ cards: [card({ source: { label: 'ACME', topic } })] });
    expect(res.status).toBe(500);
    expect(expressions(res)).toContain('systemActions');
  });

  it('needs each coverage-information part exactly once', async () => {
    const res = await orderSign({ cards: [], systemActions: [coverageInfo(['coverage', 'covered'])] });
    expect(res.status).toBe(500);
    expect(expressions(res)).toContain('systemActions[0].resource.extension[0]');
  });

  it('accepts a complete CRD response', async () => {
    const res = await orderSign({
      cards: [card({ source: { label: 'ACME', topic } })],
      systemActions: [coverageInfo(full)],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('does not apply CRD rules to a service that is not marked crd', async () => {
    const res = await respond({ cards: [card()] });
    expect(res.status).toBe(200);
  });
});
