/**
 * The rule-set document analysts write (JSON or YAML). `schema.ts` is the normative JSON Schema, built from the
 * enumerations below; these types mirror its shapes for TypeScript callers. Conditions use json-rules-engine's syntax.
 */
import type { BotCdsService, CdsRequest } from '../cds/types.js';

export const ACTION_TYPES = ['create', 'update', 'delete'] as const;
export const LINK_TYPES = ['absolute', 'smart'] as const;
export const INDICATORS = ['info', 'warning', 'critical'] as const;
export const SELECTION_BEHAVIORS = ['at-most-one', 'any'] as const;
export const COVERED = ['covered', 'not-covered', 'conditional', 'indeterminate'] as const;
export const PA_NEEDED = ['no-auth', 'auth-needed', 'satisfied', 'performpa', 'conditional', 'indeterminate'] as const;
export const DOC_NEEDED = ['clinical', 'admin', 'patient', 'conditional', 'indeterminate'] as const;
export const DOC_PURPOSE = ['withpa', 'withclaim', 'withorder', 'retain-doc', 'OTH'] as const;
export const INFO_NEEDED = ['performer', 'location', 'timeframe', 'contract-window', 'detail-code', 'OTH'] as const;
export const DETAIL_CATEGORIES = ['cat-limitation', 'cat-decisional', 'cat-other'] as const;

export interface RuleSetFactDefinition {
  /** FHIRPath over the hook request (`context`, `prefetch`, `hook`); `%order` is the order being judged. */
  fhirpath: string;
  /** Always an array (possibly empty) instead of unwrapping a single value. */
  many?: boolean;
  /** Longest rendering of this fact in a template (default 40); longer values are cut. */
  maxLength?: number;
}

export type FactDefinition = string | RuleSetFactDefinition;

export interface ConditionReference {
  condition: string;
  priority?: number;
}

/** json-rules-engine's optional fields of a condition. */
interface ConditionOptions {
  priority?: number;
  name?: string;
}

export interface FactCondition extends ConditionOptions {
  fact: string;
  operator: string;
  value: unknown;
  path?: string;
  params?: Record<string, unknown>;
}

export type AllConditions = ConditionOptions & { all: NestedCondition[] };
export type AnyConditions = ConditionOptions & { any: NestedCondition[] };
export type NotConditions = ConditionOptions & { not: NestedCondition };

export type TopLevelCondition = AllConditions | AnyConditions | NotConditions | ConditionReference;
export type NestedCondition = FactCondition | TopLevelCondition;

export interface CodeList {
  /** `cpt`, `hcpcs`, `icd10cm`, `ndc` or a code-system URI. */
  system?: string;
  /** Codes; a trailing `*` matches by prefix (ICD-10-CM `E11*`). */
  codes: string[];
}

export interface RuleSetLink {
  label: string;
  url: string;
  type?: (typeof LINK_TYPES)[number];
}

export interface RuleSetSource {
  label: string;
  url?: string;
  /** A code from the CRD card types (`coverage-info`, `therapy-alternatives-req`, ...) or a full Coding. */
  topic?: string | { system: string; code: string; display?: string };
}

export interface RuleSetAction {
  type: (typeof ACTION_TYPES)[number];
  description: string;
  resource?: Record<string, unknown>;
  resourceId?: string;
}

export interface SuggestionEvent {
  type: 'suggestion';
  label: string;
  isRecommended?: boolean;
  actions?: RuleSetAction[];
}

export interface CardEvent {
  type: 'card';
  summary: string;
  detail?: string;
  indicator: (typeof INDICATORS)[number];
  source?: RuleSetSource;
  links?: RuleSetLink[];
  suggestions?: Omit<SuggestionEvent, 'type'>[];
  selectionBehavior?: (typeof SELECTION_BEHAVIORS)[number];
}

export interface CoverageDetail {
  category?: (typeof DETAIL_CATEGORIES)[number];
  code: string;
  value: string | number | boolean;
  qualification?: string;
}

export interface CoverageEvent {
  type: 'coverage-information';
  covered: (typeof COVERED)[number];
  paNeeded?: (typeof PA_NEEDED)[number];
  docNeeded?: (typeof DOC_NEEDED)[number][];
  docPurpose?: (typeof DOC_PURPOSE)[number][];
  infoNeeded?: (typeof INFO_NEEDED)[number][];
  /** Billing codes: literal Codings, or the values of a fact tagged with a code system. */
  billingCode?: { system: string; code: string; display?: string }[] | { fact: string; system: string };
  reason?: { code?: string; text?: string }[];
  detail?: CoverageDetail[];
  questionnaire?: string[];
  expiryDate?: string;
}

/** The `hook` of a rule set that decides prior authorization requests (Da Vinci PAS) instead of answering a hook. */
export const PRIOR_AUTHORIZATION = 'prior-authorization';

/** X12 306 review action codes a prior authorization decision may carry. */
export const REVIEW_ACTIONS = ['A1', 'A2', 'A3', 'A4', 'A6', 'C', 'NA'] as const;
export type ReviewActionCode = (typeof REVIEW_ACTIONS)[number];

/** A decision on one item of a prior authorization request (rule sets whose hook is `prior-authorization`). */
export interface PasDecisionEvent {
  type: 'pas-decision';
  action: ReviewActionCode;
  /** X12 HCR03 reason codes. */
  reasonCodes?: string[];
  /** Template (`{{fact}}`, `{{item.sequence}}`); the platform numbers certified items when absent. */
  authorizationNumber?: string;
  /** The authorization is valid from the decision's date for this many days. */
  periodDays?: number;
  /** Documents wanted before a pended item can be decided (LOINC attachment codes by default). */
  documentation?: { code: string; system?: string; display?: string; text?: string }[];
  /** For A6: what is authorized instead. */
  authorized?: {
    productOrService?: { system: string; code: string; display?: string };
    quantity?: number;
    unitPrice?: number;
  };
  /** Template shown as the item's note. */
  note?: string;
}

export type RuleEvent = CardEvent | CoverageEvent | SuggestionEvent | PasDecisionEvent;

export interface RuleDefinition {
  name: string;
  priority?: number;
  conditions: TopLevelCondition;
  events: RuleEvent[];
}

export interface ExpectedCard {
  summary?: string;
  indicator?: string;
  detail?: string;
  /** Number of suggestions, when given. */
  suggestions?: number;
  links?: number;
}

export interface ExpectedCoverage {
  /** `ResourceType/id` of the order; optional when there is one. */
  order?: string;
  covered?: string;
  paNeeded?: string;
  docNeeded?: string[];
  infoNeeded?: string[];
  billingCode?: string[];
}

export interface ExpectedDecision {
  sequence?: number;
  action?: string;
  authorizationNumber?: string;
  documentation?: string[];
}

export interface RuleSetTestCase {
  name: string;
  request?: CdsRequest;
  /** A prior authorization rule set's input: `{claim, member, sequences, history, attachments}`. */
  input?: Record<string, unknown>;
  /** Path relative to the `baseDir` given to `runRuleSetTests`. */
  requestFile?: string;
  /** Clock for the case (ISO date-time), default 2026-01-15T12:00:00Z. */
  now?: string;
  expect: { cards?: ExpectedCard[]; coverage?: ExpectedCoverage[]; decisions?: ExpectedDecision[] };
}

/** The service part (`hook`, `title`, `description`, `usageRequirements`, `prefetch`, `crd`) is a `Bot.cdsService`. */
export interface RuleSetDocument extends BotCdsService {
  id: string;
  version?: string | number;
  /** IANA zone (or `UTC`) for `today` in date operators. */
  timeZone?: string;
  source: RuleSetSource;
  facts: Record<string, FactDefinition>;
  valueSets?: Record<string, CodeList>;
  conditions?: Record<string, TopLevelCondition>;
  rules: RuleDefinition[];
  /** Coverage outcome for orders no coverage rule decided (required for CRD primary hooks). */
  defaultCoverage?: Omit<CoverageEvent, 'type'>;
  /** Prior authorization: the decision for items no rule decided (default: pended for review). */
  defaultDecision?: Omit<PasDecisionEvent, 'type'>;
  tests?: RuleSetTestCase[];
}
