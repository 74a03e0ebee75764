/**
 * What an adjudication bot answers, and the check that it answered something usable: one decision per item of
 * the Claim (by `sequence`), each a review action (A1, A2, A3, A4, A6, C, NA) with what that action needs. A bot
 * answer that fails the check is never half-used: the caller pends every item instead (`pendAll`).
 */
import { isReviewAction, type ReviewAction } from './constants.js';

export interface DocumentationRequest {
  /** LOINC attachment code (or another code) of the document wanted. */
  code: string;
  system?: string;
  display?: string;
  text?: string;
}

export interface AuthorizedDetail {
  productOrService?: { system: string; code: string; display?: string };
  quantity?: number;
  unitPrice?: number;
}

export interface ItemDecision {
  sequence: number;
  action: ReviewAction;
  /** X12 HCR03 reason codes. */
  reasonCodes?: string[];
  authorizationNumber?: string;
  /** `YYYY-MM-DD`. */
  issueDate?: string;
  period?: { start?: string; end?: string };
  /** For A4: the documentation the payer needs (a CommunicationRequest per item). */
  documentation?: DocumentationRequest[];
  /** For A6: what is authorized instead of what was asked. */
  authorized?: AuthorizedDetail;
  note?: string;
}

export interface Decision {
  items: ItemDecision[];
  note?: string;
}

export type CheckedDecision = { ok: true; decision: Decision } | { ok: false; reason: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const SHORT = (v: unknown, max = 64) => typeof v === 'string' && v.length > 0 && v.length <= max;

function checkItem(raw: unknown, at: string): string | ItemDecision {
  if (!isRecord(raw)) return `${at} must be an object`;
  const { sequence, action } = raw;
  if (!Number.isInteger(sequence)) return `${at}.sequence must be the Claim item's sequence`;
  if (!isReviewAction(action)) return `${at}.action must be one of A1, A2, A3, A4, A6, C, NA`;
  const out: ItemDecision = { sequence: sequence as number, action };
  if (raw.reasonCodes !== undefined) {
    if (!Array.isArray(raw.reasonCodes) || !raw.reasonCodes.every((c) => SHORT(c, 16)))
      return `${at}.reasonCodes must be an array of codes`;
    out.reasonCodes = raw.reasonCodes as string[];
  }
  if (raw.authorizationNumber !== undefined) {
    if (!SHORT(raw.authorizationNumber)) return `${at}.authorizationNumber must be a string of 1-64 characters`;
    out.authorizationNumber = raw.authorizationNumber as string;
  }
  if (raw.issueDate !== undefined) {
    if (typeof raw.issueDate !== 'string' || !DATE.test(raw.issueDate)) return `${at}.issueDate must be YYYY-MM-DD`;
    out.issueDate = raw.issueDate;
  }
  if (raw.period !== undefined) {
    const p = raw.period;
    if (!isRecord(p) || ![p.start, p.end].every((d) => d === undefined || (typeof d === 'string' && DATE.test(d))))
      return `${at}.period must be {start, end} dates (YYYY-MM-DD)`;
    out.period = { ...(p.start ? { start: p.start as string } : {}), ...(p.end ? { end: p.end as string } : {}) };
  }
  if (raw.documentation !== undefined) {
    if (!Array.isArray(raw.documentation) || raw.documentation.length > 20)
      return `${at}.documentation must be an array`;
    const docs: DocumentationRequest[] = [];
    for (const [i, d] of raw.documentation.entries()) {
      if (!isRecord(d) || !SHORT(d.code)) return `${at}.documentation[${i}].code is required`;
      docs.push({
        code: d.code as string,
        ...(SHORT(d.system, 256) ? { system: d.system as string } : {}),
        ...(SHORT(d.display, 256) ? { display: d.display as string } : {}),
        ...(SHORT(d.text, 1000) ? { text: d.text as string } : {}),
      });
    }
    out.documentation = docs;
  }
  if (raw.authorized !== undefined) {
    const a = raw.authorized;
    if (!isRecord(a)) return `${at}.authorized must be an object`;
    const ps = a.productOrService;
    if (ps !== undefined && (!isRecord(ps) || !SHORT(ps.system, 256) || !SHORT(ps.code)))
      return `${at}.authorized.productOrService must be a Coding with system and code`;
    if (a.quantity !== undefined && (typeof a.quantity !== 'number' || !(a.quantity >= 0)))
      return `${at}.authorized.quantity must be a number`;
    if (a.unitPrice !== undefined && (typeof a.unitPrice !== 'number' || !(a.unitPrice >= 0)))
      return `${at}.authorized.unitPrice must be a number`;
    out.authorized = {
      ...(isRecord(ps)
        ? {
            productOrService: {
              system: ps.system as string,
              code: ps.code as string,
              ...(SHORT(ps.display, 256) ? { display: ps.display as string } : {}),
            },
          }
        : {}),
      ...(typeof a.quantity === 'number' ? { quantity: a.quantity } : {}),
      ...(typeof a.unitPrice === 'number' ? { unitPrice: a.unitPrice } : {}),
    };
  }
  if (action === 'A6' && !out.authorized) return `${at}: a modified (A6) item needs "authorized" details`;
  if (raw.note !== undefined) {
    if (!SHORT(raw.note, 1000)) return `${at}.note must be a string of at most 1000 characters`;
    out.note = raw.note as string;
  }
  return out;
}

/** Checks a bot's answer against the items it had to decide: each exactly once, none other. */
export function checkDecision(output: unknown, sequences: number[]): CheckedDecision {
  if (!isRecord(output) || !Array.isArray(output.items))
    return { ok: false, reason: 'the answer has no "items" array' };
  const wanted = new Set(sequences);
  const items: ItemDecision[] = [];
  for (const [i, raw] of output.items.entries()) {
    const checked = checkItem(raw, `items[${i}]`);
    if (typeof checked === 'string') return { ok: false, reason: checked };
    if (!wanted.has(checked.sequence))
      return { ok: false, reason: `items[${i}].sequence ${checked.sequence} is not an item to decide` };
    wanted.delete(checked.sequence);
    items.push(checked);
  }
  if (wanted.size > 0) return { ok: false, reason: `no decision for item(s) ${[...wanted].join(', ')}` };
  if (output.note !== undefined && !SHORT(output.note, 1000)) return { ok: false, reason: '"note" must be a string' };
  return { ok: true, decision: { items, ...(typeof output.note === 'string' ? { note: output.note } : {}) } };
}

/** Every item pended, with the reason: what a failed, late or invalid adjudication answers. */
export function pendAll(sequences: number[], reason: string): Decision {
  return { items: sequences.map((sequence) => ({ sequence, action: 'A4', note: reason })), note: reason };
}
