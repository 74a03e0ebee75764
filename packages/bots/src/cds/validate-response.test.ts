import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COVERAGE_INFORMATION_URL } from './response-rules.js';
import { validateCdsResponse, type CdsResponseValidationOptions } from './validate-response.js';

const load = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./__fixtures__/responses/${name}`, import.meta.url), 'utf8')) as unknown;

const plain: CdsResponseValidationOptions = { hook: 'patient-view' };
const crdSign: CdsResponseValidationOptions = { hook: 'order-sign', crd: true };

const topic = { system: 'http://example.org/card-types', code: 'priorauth' };
const card = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  uuid: 'c1',
  summary: 'Prior authorization is needed',
  indicator: 'info',
  source: { label: 'Acme Health', topic },
  ...overrides,
});
const coverageAction = {
  type: 'update',
  description: 'Coverage information',
  resource: {
    resourceType: 'ServiceRequest',
    id: 'sr1',
    extension: [
      {
        url: COVERAGE_INFORMATION_URL,
        extension: [
          { url: 'coverage', valueReference: { reference: 'Coverage/c' } },
          { url: 'covered', valueCode: 'covered' },
          { url: 'date', valueDate: '2026-01-12' },
          { url: 'coverage-assertion-id', valueString: 'a1' },
        ],
      },
    ],
  },
};

function errorPaths(body: unknown, opts = plain): string[] {
  return validateCdsResponse(body, opts).errors.map((e) => e.path);
}
function warningPaths(body: unknown, opts = plain): string[] {
  return validateCdsResponse(body, opts).warnings.map((e) => e.path);
}
const oneCard = (overrides: Record<string, unknown>): unknown => ({ cards: [card(overrides)] });
const suggestion = (s: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown =>
  oneCard({ selectionBehavior: 'any', suggestions: [{ label: 'Do it', uuid: 's1', ...s }], ...extra });

describe('validateCdsResponse: Inferno CRD examples', () => {
  it.each([
    'instructions.json',
    'external_reference.json',
    'companions_prerequisites.json',
    'create_update_coverage_information.json',
    'request_form_completion.json',
  ])('accepts the %s card as a CRD order-select response', (name) => {
    const result = validateCdsResponse({ cards: [load(name)] }, { hook: 'order-select', crd: true });
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('accepts the coverage-information systemAction as a CRD order-sign response', () => {
    const result = validateCdsResponse(
      { cards: [], systemActions: [load('coverage_info_system_action_covered.json')] },
      crdSign,
    );
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => w.path)).toEqual(['systemActions[0]']); // a DeviceRequest: Epic would not apply it
  });

  it('accepts valid_cards.json (seven CRD cards)', () => {
    expect(errorPaths({ cards: load('valid_cards.json') }, { hook: 'order-select', crd: true })).toEqual([]);
  });

  it('refuses the run-time templates as they stand', () => {
    expect(errorPaths({ cards: [load('launch_smart_app.json')] })).toEqual(['cards[0].links[0].url']);
    expect(errorPaths({ cards: [load('propose_alternate_request.json')] })).toEqual([
      'cards[0].suggestions[0].actions',
    ]);
  });
});

describe('validateCdsResponse: response', () => {
  it('accepts no guidance', () => {
    expect(validateCdsResponse({ cards: [] }, plain)).toEqual({
      valid: true,
      errors: [],
      warnings: [],
      response: { cards: [] },
    });
  });
  it.each([null, [], 'x'])('refuses %j', (body) => expect(errorPaths(body)).toEqual(['']));
  it('requires cards', () => expect(errorPaths({})).toEqual(['cards']));
  it('requires cards to be an array', () => expect(errorPaths({ cards: {} })).toEqual(['cards']));
  it('requires systemActions to be an array', () =>
    expect(errorPaths({ cards: [], systemActions: {} })).toEqual(['systemActions']));
  it('refuses unknown members outside extension', () => {
    expect(errorPaths({ cards: [card({ detial: 'x' })], debug: 1, extension: { 'org.example': 1 } })).toEqual([
      'debug',
      'cards[0].detial',
    ]);
  });
  it('requires extension to be an object', () =>
    expect(errorPaths({ cards: [], extension: 'x' })).toEqual(['extension']));
});

describe('validateCdsResponse: card', () => {
  it('requires a card object', () => expect(errorPaths({ cards: ['x'] })).toEqual(['cards[0]']));
  it('requires summary', () => expect(errorPaths(oneCard({ summary: undefined }))).toEqual(['cards[0].summary']));
  it('allows a 139-character summary', () => expect(errorPaths(oneCard({ summary: 'a'.repeat(139) }))).toEqual([]));
  it('refuses a 140-character summary', () =>
    expect(errorPaths(oneCard({ summary: 'a'.repeat(140) }))).toEqual(['cards[0].summary']));
  it('counts summary characters, not UTF-16 units', () =>
    expect(errorPaths(oneCard({ summary: '😀'.repeat(139) }))).toEqual([]));
  it('requires a known indicator', () => {
    expect(errorPaths(oneCard({ indicator: 'hard-stop' }))).toEqual(['cards[0].indicator']);
    expect(errorPaths(oneCard({ indicator: undefined }))).toEqual(['cards[0].indicator']);
  });
  it('requires source', () => expect(errorPaths(oneCard({ source: undefined }))).toEqual(['cards[0].source']));
  it('requires source.label', () =>
    expect(errorPaths(oneCard({ source: { topic } }))).toEqual(['cards[0].source.label']));
  it('requires source.url and icon to be absolute URLs', () =>
    expect(errorPaths(oneCard({ source: { label: 'a', url: '/x', icon: 'icon.png' } }))).toEqual([
      'cards[0].source.url',
      'cards[0].source.icon',
    ]));
  it('requires source.topic to be a Coding', () =>
    expect(errorPaths(oneCard({ source: { label: 'a', topic: { code: 'x' } } }))).toEqual([
      'cards[0].source.topic.system',
    ]));
  it('types detail and uuid as strings', () =>
    expect(errorPaths(oneCard({ detail: 5, uuid: 7 }))).toEqual(['cards[0].uuid', 'cards[0].detail']));
  it('adds a uuid to cards without one', () => {
    const result = validateCdsResponse(oneCard({ uuid: undefined }), plain);
    expect(result.response?.cards[0]?.uuid).toMatch(/^[0-9a-f-]{36}$/);
  });
  it('keeps a uuid the bot set', () =>
    expect(validateCdsResponse(oneCard({}), plain).response?.cards[0]?.uuid).toBe('c1'));
  it('warns about duplicate card uuids', () =>
    expect(warningPaths({ cards: [card(), card()] })).toEqual(['cards[1].uuid']));
  it('requires overrideReasons Codings with display', () =>
    expect(errorPaths(oneCard({ overrideReasons: [{ system: 's', code: 'c' }] }))).toEqual([
      'cards[0].overrideReasons[0].display',
    ]));
  it('requires overrideReasons to be an array', () =>
    expect(errorPaths(oneCard({ overrideReasons: { system: 's' } }))).toEqual(['cards[0].overrideReasons']));
});

describe('validateCdsResponse: suggestions', () => {
  it('requires selectionBehavior with suggestions', () =>
    expect(errorPaths(suggestion({}, { selectionBehavior: undefined }))).toEqual(['cards[0].selectionBehavior']));
  it('requires a known selectionBehavior', () =>
    expect(errorPaths(suggestion({}, { selectionBehavior: 'all' }))).toEqual(['cards[0].selectionBehavior']));
  it('requires suggestions to be an array', () =>
    expect(errorPaths(oneCard({ selectionBehavior: 'any', suggestions: {} }))).toEqual(['cards[0].suggestions']));
  it('requires a suggestion label', () =>
    expect(errorPaths(suggestion({ label: undefined }))).toEqual(['cards[0].suggestions[0].label']));
  it('adds a uuid to suggestions without one, with a warning', () => {
    const result = validateCdsResponse(suggestion({ uuid: undefined }), plain);
    expect(result.warnings.map((w) => w.path)).toEqual(['cards[0].suggestions[0].uuid']);
    expect(result.response?.cards[0]?.suggestions?.[0]?.uuid).toMatch(/^[0-9a-f-]{36}$/);
  });
  it('types isRecommended', () =>
    expect(errorPaths(suggestion({ isRecommended: 'yes' }))).toEqual(['cards[0].suggestions[0].isRecommended']));
  it('allows one recommended suggestion with at-most-one', () => {
    const s = [
      { label: 'a', uuid: 'a', isRecommended: true },
      { label: 'b', uuid: 'b', isRecommended: true },
    ];
    expect(errorPaths(oneCard({ selectionBehavior: 'at-most-one', suggestions: s }))).toEqual(['cards[0].suggestions']);
  });
  it('requires actions to be an array', () =>
    expect(errorPaths(suggestion({ actions: {} }))).toEqual(['cards[0].suggestions[0].actions']));
});

describe('validateCdsResponse: actions', () => {
  const path = 'cards[0].suggestions[0].actions[0]';
  const act = (a: Record<string, unknown>): unknown => suggestion({ actions: [a] });
  const sr = { resourceType: 'ServiceRequest', status: 'draft' };
  it('requires a type', () => expect(errorPaths(act({ description: 'd', resource: sr }))).toEqual([`${path}.type`]));
  it('requires a known type', () =>
    expect(errorPaths(act({ type: 'replace', description: 'd', resource: sr }))).toEqual([`${path}.type`]));
  it('requires a description', () =>
    expect(errorPaths(act({ type: 'create', resource: sr }))).toEqual([`${path}.description`]));
  it('requires a resource for create', () =>
    expect(errorPaths(act({ type: 'create', description: 'd' }))).toEqual([`${path}.resource`]));
  it('requires a resource for update', () =>
    expect(errorPaths(act({ type: 'update', description: 'd' }))).toEqual([`${path}.resource`]));
  it('requires a resourceType on the resource', () =>
    expect(errorPaths(act({ type: 'create', description: 'd', resource: { status: 'draft' } }))).toEqual([
      `${path}.resource`,
    ]));
  it('requires resourceId for delete', () =>
    expect(errorPaths(act({ type: 'delete', description: 'd' }))).toEqual([`${path}.resourceId`]));
  it('requires resourceId as Type/id', () => {
    expect(errorPaths(act({ type: 'delete', description: 'd', resourceId: 'abc' }))).toEqual([`${path}.resourceId`]);
    expect(errorPaths(act({ type: 'delete', description: 'd', resourceId: 'https://x/ServiceRequest/1' }))).toEqual([
      `${path}.resourceId`,
    ]);
    expect(errorPaths(act({ type: 'delete', description: 'd', resourceId: 'ServiceRequest/1' }))).toEqual([]);
  });
  it('applies the same rules to systemActions', () =>
    expect(errorPaths({ cards: [], systemActions: [{ type: 'delete', description: 'd' }] })).toEqual([
      'systemActions[0].resourceId',
    ]));
});

describe('validateCdsResponse: links', () => {
  const link = (l: Record<string, unknown>): unknown =>
    oneCard({ links: [{ label: 'Policy', url: 'https://p.example', type: 'absolute', ...l }] });
  it('requires a label', () => expect(errorPaths(link({ label: undefined }))).toEqual(['cards[0].links[0].label']));
  it('requires a valid absolute url', () =>
    expect(errorPaths(link({ url: 'p.example/x' }))).toEqual(['cards[0].links[0].url']));
  it('requires type absolute or smart', () =>
    expect(errorPaths(link({ type: 'web' }))).toEqual(['cards[0].links[0].type']));
  it('allows appContext only on smart links', () => {
    expect(errorPaths(link({ appContext: 'x' }))).toEqual(['cards[0].links[0].appContext']);
    expect(errorPaths(link({ type: 'smart', appContext: 'x' }))).toEqual([]);
  });
  it('types autolaunchable', () =>
    expect(errorPaths(link({ autolaunchable: 1 }))).toEqual(['cards[0].links[0].autolaunchable']));
  it('requires links to be an array', () => expect(errorPaths(oneCard({ links: {} }))).toEqual(['cards[0].links']));
});

describe('validateCdsResponse: no empty values', () => {
  it.each([
    ['an empty string', { detail: '' }, 'cards[0].detail'],
    ['null', { detail: null }, 'cards[0].detail'],
    ['an empty array', { links: [] }, 'cards[0].links'],
    ['an empty object', { extension: {} }, 'cards[0].extension'],
  ])('refuses %s', (_name, overrides, path) => expect(errorPaths(oneCard(overrides))).toEqual([path]));
  it('looks inside FHIR resources', () =>
    expect(
      errorPaths(
        suggestion({ actions: [{ type: 'create', description: 'd', resource: { resourceType: 'Task', note: [] } }] }),
      ),
    ).toEqual(['cards[0].suggestions[0].actions[0].resource.note']));
});

describe('validateCdsResponse: CRD rules', () => {
  const crdSelect = { hook: 'order-select', crd: true };
  it('requires source.topic on every card', () =>
    expect(errorPaths(oneCard({ source: { label: 'Acme' } }), crdSelect)).toEqual(['cards[0].source.topic']));
  it('requires topic system and code', () =>
    expect(errorPaths(oneCard({ source: { label: 'Acme', topic: { code: 'x' } } }), crdSelect)).toEqual([
      'cards[0].source.topic.system',
    ]));
  it.each(['order-sign', 'order-dispatch', 'appointment-book'])(
    'requires a coverage-information systemAction for %s',
    (hook) => {
      expect(errorPaths({ cards: [card()] }, { hook, crd: true })).toEqual(['systemActions']);
      expect(errorPaths({ cards: [card()], systemActions: [coverageAction] }, { hook, crd: true })).toEqual([]);
    },
  );
  it('does not require it for secondary hooks or non-CRD services', () => {
    expect(errorPaths({ cards: [card()] }, crdSelect)).toEqual([]);
    expect(errorPaths({ cards: [card()] }, { hook: 'order-sign' })).toEqual([]);
  });
  it('does not count an update without the extension', () => {
    const plainUpdate = { ...coverageAction, resource: { resourceType: 'ServiceRequest', id: 'sr1' } };
    expect(errorPaths({ cards: [], systemActions: [plainUpdate] }, crdSign)).toEqual(['systemActions']);
  });
  it('refuses resourceId on a coverage-information action', () =>
    expect(
      errorPaths({ cards: [], systemActions: [{ ...coverageAction, resourceId: 'ServiceRequest/sr1' }] }, crdSign),
    ).toEqual(['systemActions[0].resourceId']));
  it('requires the 1..1 coverage-information parts', () => {
    const ext = coverageAction.resource.extension[0]!;
    const broken = {
      ...coverageAction,
      resource: { ...coverageAction.resource, extension: [{ ...ext, extension: ext.extension.slice(1) }] },
    };
    expect(errorPaths({ cards: [], systemActions: [broken] }, crdSign)).toEqual([
      'systemActions[0].resource.extension[0]',
    ]);
  });
});

describe('validateCdsResponse: Epic rendering warnings', () => {
  it('warns when selectionBehavior is not any', () =>
    expect(warningPaths(suggestion({}, { selectionBehavior: 'at-most-one' }))).toEqual(['cards[0].selectionBehavior']));
  it('warns about more than one action per suggestion', () => {
    const actions = [
      { type: 'delete', description: 'd', resourceId: 'ServiceRequest/1' },
      { type: 'create', description: 'c', resource: { resourceType: 'ServiceRequest' } },
    ];
    expect(warningPaths(suggestion({ actions }))).toEqual(['cards[0].suggestions[0].actions']);
  });
  it('warns about topic codes that are not alphanumeric or longer than 100', () => {
    expect(warningPaths(oneCard({ source: { label: 'a', topic: { ...topic, code: 'coverage-info' } } }))).toEqual([
      'cards[0].source.topic.code',
    ]);
    expect(warningPaths(oneCard({ source: { label: 'a', topic: { ...topic, code: 'a'.repeat(101) } } }))).toEqual([
      'cards[0].source.topic.code',
    ]);
    expect(warningPaths(oneCard({}))).toEqual([]);
  });
  it('warns about suggestion actions Epic does not apply', () =>
    expect(
      warningPaths(
        suggestion({
          actions: [{ type: 'update', description: 'd', resource: { resourceType: 'MedicationRequest' } }],
        }),
      ),
    ).toEqual(['cards[0].suggestions[0].actions[0]']));
  it('warns about systemActions other than ServiceRequest updates', () =>
    expect(
      warningPaths({
        cards: [],
        systemActions: [{ type: 'create', description: 'd', resource: { resourceType: 'Task' } }],
      }),
    ).toEqual(['systemActions[0]']));
});
