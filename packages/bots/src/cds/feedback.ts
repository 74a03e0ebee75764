/**
 * validateFeedback: a CDS Hooks feedback body (CDS Hooks 2.0 "Feedback") → normalised items, or issues by path
 * (`feedback[0].outcome`). Tolerates Epic's plural `overrideReasons` and a bare array of items.
 */
import type { Coding } from '@medplum/fhirtypes';
import type { CdsIssue } from './issues.js';
import { isNonEmptyString, isRecord, type JsonObject } from './util.js';

export interface CdsOverrideReason {
  reason?: Coding;
  userComment?: string;
}

export interface NormalizedFeedbackItem {
  /** The card's uuid (not necessarily a UUID: Epic's are not). */
  card: string;
  outcome: 'accepted' | 'overridden';
  /** Ids (suggestion uuids) of the accepted suggestions. */
  acceptedSuggestions: string[];
  overrideReason?: CdsOverrideReason;
  /** ISO 8601 in UTC. */
  outcomeTimestamp: string;
}

export type FeedbackValidation =
  { ok: true; items: NormalizedFeedbackItem[]; warnings: string[] } | { ok: false; issues: CdsIssue[] };

export function validateFeedback(body: unknown): FeedbackValidation {
  const issues: CdsIssue[] = [];
  const warnings: string[] = [];
  let list: unknown[];
  if (Array.isArray(body)) {
    list = body;
    warnings.push('feedback items were sent as a bare array');
  } else if (isRecord(body) && Array.isArray(body.feedback)) {
    list = body.feedback;
  } else {
    return { ok: false, issues: [{ path: 'feedback', message: 'The body must be {"feedback": [ ... ]}' }] };
  }
  if (list.length === 0) return { ok: false, issues: [{ path: 'feedback', message: 'feedback must not be empty' }] };

  const items: NormalizedFeedbackItem[] = [];
  list.forEach((raw, i) => {
    const item = readItem(raw, `feedback[${i}]`, issues, warnings);
    if (item) items.push(item);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, items, warnings };
}

function readItem(
  raw: unknown,
  path: string,
  issues: CdsIssue[],
  warnings: string[],
): NormalizedFeedbackItem | undefined {
  if (!isRecord(raw)) {
    issues.push({ path, message: 'A feedback item must be an object' });
    return undefined;
  }
  const before = issues.length;
  if (!isNonEmptyString(raw.card)) issues.push({ path: `${path}.card`, message: 'card (the card uuid) is required' });
  const outcome = typeof raw.outcome === 'string' ? raw.outcome.toLowerCase() : undefined;
  if (outcome !== 'accepted' && outcome !== 'overridden') {
    issues.push({ path: `${path}.outcome`, message: 'outcome must be accepted or overridden' });
  }
  const timestamp = typeof raw.outcomeTimestamp === 'string' ? Date.parse(raw.outcomeTimestamp) : NaN;
  if (Number.isNaN(timestamp)) {
    issues.push({ path: `${path}.outcomeTimestamp`, message: 'outcomeTimestamp must be an ISO 8601 date-time' });
  }
  const acceptedSuggestions = readAcceptedSuggestions(raw.acceptedSuggestions, `${path}.acceptedSuggestions`, issues);
  const overrideReason = readOverrideReason(raw, path, issues, warnings);
  if (issues.length > before) return undefined;

  if (outcome === 'accepted' && acceptedSuggestions.length === 0) {
    warnings.push(`${path}: accepted without acceptedSuggestions`);
  }
  const item: NormalizedFeedbackItem = {
    card: raw.card as string,
    outcome: outcome as 'accepted' | 'overridden',
    acceptedSuggestions,
    outcomeTimestamp: new Date(timestamp).toISOString(),
  };
  if (overrideReason) {
    if (outcome === 'overridden') item.overrideReason = overrideReason;
    else warnings.push(`${path}: override reason ignored on an accepted card`);
  }
  return item;
}

function readAcceptedSuggestions(value: unknown, path: string, issues: CdsIssue[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    issues.push({ path, message: 'acceptedSuggestions must be an array of {id}' });
    return [];
  }
  const ids: string[] = [];
  value.forEach((s: unknown, i) => {
    if (isRecord(s) && isNonEmptyString(s.id)) ids.push(s.id);
    else issues.push({ path: `${path}[${i}].id`, message: 'id (the suggestion uuid) is required' });
  });
  return ids;
}

/** `overrideReason` (spec) or `overrideReasons` (Epic: a list, or one object). */
function readOverrideReason(
  raw: JsonObject,
  path: string,
  issues: CdsIssue[],
  warnings: string[],
): CdsOverrideReason | undefined {
  let key = 'overrideReason';
  let value: unknown = raw.overrideReason;
  if (value === undefined || value === null) {
    key = 'overrideReasons';
    value = raw.overrideReasons;
    if (Array.isArray(value)) {
      if (value.length > 1) warnings.push(`${path}.overrideReasons: only the first of ${value.length} is kept`);
      value = value[0];
      key = 'overrideReasons[0]';
    }
  }
  if (value === undefined || value === null) return undefined;
  const at = `${path}.${key}`;
  if (!isRecord(value)) {
    issues.push({ path: at, message: 'An override reason must be {reason?, userComment?}' });
    return undefined;
  }
  const result: CdsOverrideReason = {};
  if (value.reason !== undefined) {
    const reason = value.reason;
    if (isRecord(reason) && isNonEmptyString(reason.code)) {
      result.reason = { code: reason.code };
      if (isNonEmptyString(reason.system)) result.reason.system = reason.system;
      if (isNonEmptyString(reason.display)) result.reason.display = reason.display;
    } else {
      issues.push({ path: `${at}.reason`, message: 'reason must be a Coding with a code' });
    }
  }
  if (value.userComment !== undefined) {
    if (typeof value.userComment === 'string') {
      if (value.userComment !== '') result.userComment = value.userComment;
    } else {
      issues.push({ path: `${at}.userComment`, message: 'userComment must be a string' });
    }
  }
  return result.reason || result.userComment ? result : undefined;
}
