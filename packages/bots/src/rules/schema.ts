/**
 * JSON Schema (2020-12) of the rule-set document: the one source of `packages/bots/schema/rule-set.schema.json`,
 * which `npm run generate` writes (`schema.test.ts` fails when the file is not current).
 */
import { KNOWN_HOOKS } from '../cds/types.js';
import { RULE_SET_LIMITS } from './limits.js';
import * as enums from './types.js';

type Schema = Record<string, unknown>;

const str = (maxLength: number): Schema => ({ type: 'string', minLength: 1, maxLength });
/** An object with only the listed properties, of which `required` must be present. */
const closed = (required: string[], properties: Schema): Schema => ({
  type: 'object',
  additionalProperties: false,
  ...(required.length > 0 ? { required } : {}),
  properties,
});
const priority = { type: 'integer', minimum: 1 };
const name = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' };
const codes = {
  type: 'array',
  maxItems: RULE_SET_LIMITS.maxCodesPerList,
  items: { type: 'string', minLength: 1, maxLength: 64 },
};
const coding = closed(['system', 'code'], { system: str(256), code: str(64), display: str(256) });
const source = closed(['label'], {
  label: str(120),
  url: { type: 'string', pattern: '^https://', maxLength: 512 },
  topic: { oneOf: [str(64), coding] },
});
const action = closed(['type', 'description'], {
  type: { enum: [...enums.ACTION_TYPES] },
  description: str(500),
  resource: { type: 'object', required: ['resourceType'] },
  resourceId: str(200),
});
const suggestionBody = {
  label: str(200),
  isRecommended: { type: 'boolean' },
  actions: { type: 'array', maxItems: 10, items: action },
};
const coverageBody = {
  covered: { enum: [...enums.COVERED] },
  paNeeded: { enum: [...enums.PA_NEEDED] },
  docNeeded: { type: 'array', items: { enum: [...enums.DOC_NEEDED] } },
  docPurpose: { type: 'array', items: { enum: [...enums.DOC_PURPOSE] } },
  infoNeeded: { type: 'array', items: { enum: [...enums.INFO_NEEDED] } },
  billingCode: {
    oneOf: [
      { type: 'array', maxItems: 50, items: coding },
      closed(['fact', 'system'], { fact: name, system: str(256) }),
    ],
  },
  reason: { type: 'array', maxItems: 10, items: closed([], { code: str(64), text: str(500) }) },
  detail: {
    type: 'array',
    maxItems: 20,
    items: closed(['code', 'value'], {
      category: { enum: [...enums.DETAIL_CATEGORIES] },
      code: str(64),
      value: { type: ['string', 'number', 'boolean'] },
      qualification: str(500),
    }),
  },
  questionnaire: { type: 'array', maxItems: 10, items: str(512) },
  expiryDate: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
};

const pasDecisionBody = {
  action: { enum: [...enums.REVIEW_ACTIONS] },
  reasonCodes: { type: 'array', maxItems: 10, items: str(16) },
  authorizationNumber: str(200),
  periodDays: { type: 'integer', minimum: 1, maximum: 3660 },
  documentation: {
    type: 'array',
    maxItems: 20,
    items: closed(['code'], { code: str(64), system: str(256), display: str(256), text: str(1000) }),
  },
  authorized: closed([], {
    productOrService: coding,
    quantity: { type: 'number', minimum: 0 },
    unitPrice: { type: 'number', minimum: 0 },
  }),
  note: str(1000),
};

/** `if (has key) then ref else ...` for each [key, ref] pair in turn. */
function dispatch(cases: [string, string][], otherwise: Schema): Schema {
  const [first, ...rest] = cases;
  if (!first) return otherwise;
  return { if: { required: [first[0]] }, then: { $ref: first[1] }, else: dispatch(rest, otherwise) };
}

function dispatchOnType(branches: Schema[]): Schema {
  return {
    allOf: branches.map((branch) => {
      const type = ((branch['properties'] as Schema)['type'] as { const: string }).const;
      return { if: { properties: { type: { const: type } } }, then: branch };
    }),
  };
}

/** `all`, `any` or `not` and the condition's optional priority and name. */
const group = (key: string, value: Schema): Schema => closed([key], { [key]: value, priority, name: str(100) });
const nested = { $ref: '#/$defs/nestedCondition' };
/** What a test case expects: the listed fields of each item. */
const expected = (properties: Schema): Schema => ({ type: 'array', items: closed([], properties) });
const strings = { type: 'array', items: { type: 'string' } };
const count = { type: 'integer', minimum: 0 };

export const ruleSetSchema: Schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://hookbot.dev/schema/rule-set.schema.json',
  title: 'Hookbot rule set',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'hook', 'title', 'description', 'source', 'facts', 'rules'],
  properties: {
    $schema: { type: 'string' },
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,63}$' },
    version: { type: ['string', 'integer'] },
    hook: { enum: [...KNOWN_HOOKS, enums.PRIOR_AUTHORIZATION] },
    title: str(200),
    description: str(2000),
    usageRequirements: str(2000),
    prefetch: { type: 'array', maxItems: 20, items: closed(['key', 'query'], { key: name, query: str(1000) }) },
    crd: { type: 'boolean' },
    timeZone: { type: 'string', pattern: '^[A-Za-z_+\\-/0-9]{1,64}$' },
    source,
    facts: {
      type: 'object',
      maxProperties: RULE_SET_LIMITS.maxFacts,
      propertyNames: name,
      additionalProperties: {
        oneOf: [
          { type: 'string', minLength: 1 },
          closed(['fhirpath'], {
            fhirpath: { type: 'string', minLength: 1 },
            many: { type: 'boolean' },
            maxLength: { type: 'integer', minimum: 1, maximum: RULE_SET_LIMITS.maxSummaryLength },
          }),
        ],
      },
    },
    valueSets: {
      type: 'object',
      maxProperties: 200,
      propertyNames: name,
      additionalProperties: closed(['codes'], { system: str(256), codes }),
    },
    conditions: {
      type: 'object',
      maxProperties: 500,
      propertyNames: name,
      additionalProperties: { $ref: '#/$defs/topLevelCondition' },
    },
    rules: {
      type: 'array',
      minItems: 1,
      maxItems: RULE_SET_LIMITS.maxRules,
      items: closed(['name', 'conditions', 'events'], {
        name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$' },
        priority: { type: 'integer', minimum: 1, maximum: 1000 },
        conditions: { $ref: '#/$defs/topLevelCondition' },
        events: { type: 'array', minItems: 1, maxItems: 10, items: { $ref: '#/$defs/event' } },
      }),
    },
    defaultCoverage: closed(['covered'], coverageBody),
    defaultDecision: closed(['action'], pasDecisionBody),
    tests: {
      type: 'array',
      maxItems: RULE_SET_LIMITS.maxTestCases,
      items: {
        ...closed(['name', 'expect'], {
          name: str(200),
          request: { type: 'object', required: ['hook', 'hookInstance', 'context'] },
          input: { type: 'object', required: ['claim'] },
          requestFile: { type: 'string', pattern: '^[A-Za-z0-9_./-]{1,300}$' },
          now: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T' },
          expect: closed([], {
            cards: expected({
              summary: { type: 'string' },
              indicator: { type: 'string' },
              detail: { type: 'string' },
              suggestions: count,
              links: count,
            }),
            coverage: expected({
              order: { type: 'string' },
              covered: { type: 'string' },
              paNeeded: { type: 'string' },
              docNeeded: strings,
              infoNeeded: strings,
              billingCode: strings,
            }),
            decisions: expected({
              sequence: { type: 'integer', minimum: 1 },
              action: { type: 'string' },
              authorizationNumber: { type: 'string' },
              documentation: strings,
            }),
          }),
        }),
        oneOf: [{ required: ['request'] }, { required: ['requestFile'] }, { required: ['input'] }],
      },
    },
  },
  $defs: {
    // if/then chains instead of oneOf so that a bad condition reports the branch the author meant.
    topLevelCondition: {
      type: 'object',
      ...dispatch(
        [
          ['all', '#/$defs/all'],
          ['any', '#/$defs/any'],
          ['not', '#/$defs/not'],
        ],
        { $ref: '#/$defs/conditionReference' },
      ),
    },
    nestedCondition: {
      type: 'object',
      ...dispatch([['fact', '#/$defs/factCondition']], { $ref: '#/$defs/topLevelCondition' }),
    },
    all: group('all', { type: 'array', maxItems: 100, items: nested }),
    any: group('any', { type: 'array', maxItems: 100, items: nested }),
    not: group('not', nested),
    conditionReference: closed(['condition'], { condition: name, priority }),
    factCondition: closed(['fact', 'operator', 'value'], {
      fact: name,
      operator: { type: 'string', pattern: '^[A-Za-z:]{1,64}$' },
      value: {},
      path: { type: 'string', maxLength: 200 },
      params: { type: 'object' },
      priority,
      name: str(100),
    }),
    event: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['card', 'coverage-information', 'suggestion', 'pas-decision'] } },
      ...dispatchOnType([
        closed(['type', 'summary', 'indicator'], {
          type: { const: 'card' },
          summary: str(500),
          detail: str(10_000),
          indicator: { enum: [...enums.INDICATORS] },
          source,
          links: {
            type: 'array',
            maxItems: 10,
            items: closed(['label', 'url'], {
              label: str(200),
              url: { type: 'string', pattern: '^https://', maxLength: 1000 },
              type: { enum: [...enums.LINK_TYPES] },
            }),
          },
          suggestions: { type: 'array', maxItems: 10, items: closed(['label'], suggestionBody) },
          selectionBehavior: { enum: [...enums.SELECTION_BEHAVIORS] },
        }),
        closed(['type', 'covered'], { type: { const: 'coverage-information' }, ...coverageBody }),
        closed(['type', 'label'], { type: { const: 'suggestion' }, ...suggestionBody }),
        closed(['type', 'action'], { type: { const: 'pas-decision' }, ...pasDecisionBody }),
      ]),
    },
  },
};
