/**
 * validateCdsResponse: a bot's output → errors and warnings, each by JSON path (`cards[0].summary`), and, when
 * valid, the response to send (cards and suggestions without a `uuid` get one).
 *
 * Errors are CDS Hooks 2.0 "CDS Service Response" rules, plus the Da Vinci CRD 2.2.1 rules when `crd` is set
 * (resp-5/resp-13 `source.topic`; hook-16 a Coverage Information systemAction for the primary hooks).
 * Warnings flag valid output that Epic would not render as meant (Epic's CDS Hooks documentation).
 * Unknown members are errors (see checkMembers); FHIR resources inside actions are checked only for
 * `resourceType` and empty values.
 */
import { isCrdPrimaryHook } from './hooks.js';
import type { CdsIssue } from './issues.js';
import {
  checkAbsoluteUrl,
  checkAction,
  checkCoding,
  checkCoverageInformationAction,
  checkMembers,
  checkOptionalString,
  findEmptyValues,
  isCoverageInformationAction,
  IssueCollector,
} from './response-rules.js';
import type { CdsResponse } from './types.js';
import { isNonEmptyString, isRecord, randomUuid, type JsonObject } from './util.js';

export interface CdsResponseValidationOptions {
  /** The service is a Da Vinci CRD service: CRD response rules apply. */
  crd?: boolean;
  /** The hook the response answers. */
  hook: string;
}

export interface CdsResponseValidation {
  valid: boolean;
  errors: CdsIssue[];
  warnings: CdsIssue[];
  /** Present when valid: the response as it should be sent. */
  response?: CdsResponse;
}

const INDICATORS = ['info', 'warning', 'critical'];
const SELECTION_BEHAVIORS = ['at-most-one', 'any'];
/** Epic renders only these suggestion actions. */
const EPIC_SUGGESTION_ACTIONS = [
  'create Condition',
  'create MedicationRequest',
  'delete MedicationRequest',
  'create ServiceRequest',
  'delete ServiceRequest',
];

export function validateCdsResponse(body: unknown, opts: CdsResponseValidationOptions): CdsResponseValidation {
  const out = new IssueCollector();
  if (!isRecord(body)) {
    out.error('', 'The response must be a JSON object with a cards array');
    return result(out);
  }
  checkMembers(out, '', body, ['cards', 'systemActions']);
  if (!Array.isArray(body.cards)) out.error('cards', 'cards is required and must be an array');
  const cards = Array.isArray(body.cards) ? body.cards : [];
  cards.forEach((card, i) => checkCard(out, `cards[${i}]`, card, opts));
  warnDuplicateUuids(out, cards);

  const systemActions = Array.isArray(body.systemActions) ? body.systemActions : [];
  if (body.systemActions !== undefined && !Array.isArray(body.systemActions)) {
    out.error('systemActions', 'systemActions must be an array');
  }
  systemActions.forEach((action, i) => {
    const path = `systemActions[${i}]`;
    checkAction(out, path, action);
    if (isCoverageInformationAction(action)) checkCoverageInformationAction(out, path, action as JsonObject);
    if (
      isRecord(action) &&
      isRecord(action.resource) &&
      !(action.type === 'update' && action.resource.resourceType === 'ServiceRequest')
    ) {
      out.warn(path, 'Epic applies systemActions only as updates of unsigned ServiceRequests');
    }
  });
  if (opts.crd && isCrdPrimaryHook(opts.hook) && !systemActions.some(isCoverageInformationAction)) {
    out.error(
      'systemActions',
      `A CRD ${opts.hook} response needs a Coverage Information systemAction (update carrying ext-coverage-information)`,
    );
  }

  findEmptyValues(out, body, '');
  return result(out, body);
}

function checkCard(out: IssueCollector, path: string, card: unknown, opts: CdsResponseValidationOptions): void {
  if (!isRecord(card)) return out.error(path, 'A card must be an object');
  checkMembers(out, path, card, [
    'uuid',
    'summary',
    'detail',
    'indicator',
    'source',
    'suggestions',
    'selectionBehavior',
    'overrideReasons',
    'links',
  ]);
  checkOptionalString(out, `${path}.uuid`, card.uuid);
  if (!isNonEmptyString(card.summary)) out.error(`${path}.summary`, 'summary is required');
  // "<140-character summary": 139 characters at most, counted as code points.
  else if ([...card.summary].length >= 140) out.error(`${path}.summary`, 'summary must be shorter than 140 characters');
  checkOptionalString(out, `${path}.detail`, card.detail);
  if (typeof card.indicator !== 'string' || !INDICATORS.includes(card.indicator)) {
    out.error(`${path}.indicator`, 'indicator must be info, warning or critical');
  }
  checkSource(out, `${path}.source`, card.source, opts);
  checkSuggestions(out, path, card);
  if (card.overrideReasons !== undefined) {
    if (!Array.isArray(card.overrideReasons))
      out.error(`${path}.overrideReasons`, 'overrideReasons must be an array of Codings');
    else card.overrideReasons.forEach((c, i) => checkCoding(out, `${path}.overrideReasons[${i}]`, c, true));
  }
  if (card.links !== undefined) {
    if (!Array.isArray(card.links)) out.error(`${path}.links`, 'links must be an array');
    else card.links.forEach((link, i) => checkLink(out, `${path}.links[${i}]`, link));
  }
}

function checkSource(out: IssueCollector, path: string, source: unknown, opts: CdsResponseValidationOptions): void {
  if (!isRecord(source)) return out.error(path, 'source is required and must be an object');
  checkMembers(out, path, source, ['label', 'url', 'icon', 'topic']);
  if (!isNonEmptyString(source.label)) out.error(`${path}.label`, 'label is required');
  checkAbsoluteUrl(out, `${path}.url`, source.url, false);
  checkAbsoluteUrl(out, `${path}.icon`, source.icon, false);
  if (source.topic !== undefined) checkCoding(out, `${path}.topic`, source.topic, false);
  else if (opts.crd)
    out.error(`${path}.topic`, 'CRD cards need source.topic (system and code from the CRD card types)');
  if (
    isRecord(source.topic) &&
    typeof source.topic.code === 'string' &&
    !/^[A-Za-z0-9]{1,100}$/.test(source.topic.code)
  ) {
    out.warn(`${path}.topic.code`, 'Epic accepts only alphanumeric topic codes of up to 100 characters');
  }
}

function checkSuggestions(out: IssueCollector, path: string, card: JsonObject): void {
  if (card.selectionBehavior !== undefined) {
    if (typeof card.selectionBehavior !== 'string' || !SELECTION_BEHAVIORS.includes(card.selectionBehavior)) {
      out.error(`${path}.selectionBehavior`, 'selectionBehavior must be at-most-one or any');
    }
  }
  if (card.suggestions === undefined) return;
  if (!Array.isArray(card.suggestions)) return out.error(`${path}.suggestions`, 'suggestions must be an array');
  if (card.selectionBehavior === undefined) {
    out.error(`${path}.selectionBehavior`, 'selectionBehavior is required when suggestions are present');
  } else if (card.selectionBehavior !== 'any') {
    out.warn(`${path}.selectionBehavior`, 'Epic shows suggestions only with selectionBehavior any');
  }
  const recommended = card.suggestions.filter((s) => isRecord(s) && s.isRecommended === true).length;
  if (card.selectionBehavior === 'at-most-one' && recommended > 1) {
    out.error(`${path}.suggestions`, 'With at-most-one, at most one suggestion may be isRecommended');
  }
  card.suggestions.forEach((s: unknown, i) => {
    const sPath = `${path}.suggestions[${i}]`;
    if (!isRecord(s)) return out.error(sPath, 'A suggestion must be an object');
    checkMembers(out, sPath, s, ['label', 'uuid', 'isRecommended', 'actions']);
    if (!isNonEmptyString(s.label)) out.error(`${sPath}.label`, 'label is required');
    if (s.uuid === undefined) out.warn(`${sPath}.uuid`, 'uuid was missing: one was generated so feedback can name it');
    else checkOptionalString(out, `${sPath}.uuid`, s.uuid);
    if (s.isRecommended !== undefined && typeof s.isRecommended !== 'boolean') {
      out.error(`${sPath}.isRecommended`, 'isRecommended must be a boolean');
    }
    if (s.actions === undefined) return;
    if (!Array.isArray(s.actions)) return out.error(`${sPath}.actions`, 'actions must be an array');
    if (s.actions.length > 1) out.warn(`${sPath}.actions`, 'Epic supports a single action per suggestion');
    s.actions.forEach((a: unknown, j) => {
      checkAction(out, `${sPath}.actions[${j}]`, a);
      const kind =
        isRecord(a) && isRecord(a.resource) ? `${String(a.type)} ${String(a.resource.resourceType)}` : undefined;
      if (kind && !EPIC_SUGGESTION_ACTIONS.includes(kind)) {
        out.warn(`${sPath}.actions[${j}]`, `Epic does not apply a suggestion action "${kind}"`);
      }
    });
  });
}

function checkLink(out: IssueCollector, path: string, link: unknown): void {
  if (!isRecord(link)) return out.error(path, 'A link must be an object');
  checkMembers(out, path, link, ['label', 'url', 'type', 'appContext', 'autolaunchable']);
  if (!isNonEmptyString(link.label)) out.error(`${path}.label`, 'label is required');
  checkAbsoluteUrl(out, `${path}.url`, link.url, true);
  if (link.type !== 'absolute' && link.type !== 'smart') out.error(`${path}.type`, 'type must be absolute or smart');
  if (link.appContext !== undefined) {
    if (link.type !== 'smart') out.error(`${path}.appContext`, 'appContext is allowed only on smart links');
    checkOptionalString(out, `${path}.appContext`, link.appContext);
  }
  if (link.autolaunchable !== undefined && typeof link.autolaunchable !== 'boolean') {
    out.error(`${path}.autolaunchable`, 'autolaunchable must be a boolean');
  }
}

function warnDuplicateUuids(out: IssueCollector, cards: unknown[]): void {
  const seen = new Set<string>();
  cards.forEach((card, i) => {
    if (!isRecord(card) || typeof card.uuid !== 'string') return;
    if (seen.has(card.uuid))
      out.warn(`cards[${i}].uuid`, 'Another card has the same uuid: feedback cannot tell them apart');
    seen.add(card.uuid);
  });
}

function result(out: IssueCollector, body?: JsonObject): CdsResponseValidation {
  const errors = dedupeByPath(out.errors);
  if (errors.length > 0 || !body) return { valid: false, errors, warnings: out.warnings };
  return { valid: true, errors, warnings: out.warnings, response: withUuids(body) };
}

/** One error per path: a missing field is also an empty value; the specific message wins. */
function dedupeByPath(issues: CdsIssue[]): CdsIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => !seen.has(i.path) && seen.add(i.path));
}

function withUuids(body: JsonObject): CdsResponse {
  const cards = (body.cards as JsonObject[]).map((card) => {
    const copy: JsonObject = { ...card, uuid: card.uuid ?? randomUuid() };
    if (Array.isArray(card.suggestions)) {
      copy.suggestions = (card.suggestions as JsonObject[]).map((s) => ({ ...s, uuid: s.uuid ?? randomUuid() }));
    }
    return copy;
  });
  return { ...body, cards } as unknown as CdsResponse;
}
