/**
 * Compares a rule set's answer with a test case's expectations and explains each difference as a short
 * expected/actual diff. Pure code: it runs in process and inside the sandbox test runner.
 */
import type { CdsResponse } from '../cds/types.js';
import { readCoverageInformation } from './coverage.js';
import type { PasRuleDecision } from './prior-authorization.js';
import type { ExpectedCard, ExpectedCoverage, ExpectedDecision, RuleSetTestCase } from './types.js';

const show = (v: unknown): string => JSON.stringify(v);

/** Adds an expected/actual diff under `label` when `want` is given and is not `got`. */
function diff(lines: string[], label: string, want: unknown, got: unknown, equal: boolean): void {
  if (want !== undefined && !equal) lines.push(label, `  - expected: ${show(want)}`, `  + actual:   ${show(got)}`);
}

export function compareResponse(expect: RuleSetTestCase['expect'], response: CdsResponse): string[] {
  const lines: string[] = [];
  if (expect.cards) compareCards(expect.cards, response, lines);
  if (expect.coverage) compareCoverage(expect.coverage, response, lines);
  return lines;
}

function compareCards(expected: ExpectedCard[], response: CdsResponse, lines: string[]): void {
  const actual = response.cards;
  if (actual.length !== expected.length) {
    lines.push(`cards: expected ${expected.length}, got ${actual.length}`);
    for (const c of actual) lines.push(`  + got (${c.indicator}) ${show(c.summary)}`);
    for (const c of expected) lines.push(`  - expected ${show(c.summary ?? c)}`);
    return;
  }
  expected.forEach((e, i) => {
    const a = actual[i];
    if (!a) return;
    const field = (name: string, want: unknown, got: unknown): void =>
      diff(lines, `cards[${i}].${name}`, want, got, want === got);
    field('summary', e.summary, a.summary);
    field('indicator', e.indicator, a.indicator);
    field('detail', e.detail, a.detail);
    field('suggestions', e.suggestions, a.suggestions?.length ?? 0);
    field('links', e.links, a.links?.length ?? 0);
  });
}

function compareCoverage(expected: ExpectedCoverage[], response: CdsResponse, lines: string[]): void {
  const actual = (response.systemActions ?? [])
    .map((action) => ({ action, info: readCoverageInformation(action) }))
    .filter((x) => x.info !== undefined);
  if (actual.length !== expected.length) {
    lines.push(`coverage-information actions: expected ${expected.length}, got ${actual.length}`);
    for (const x of actual)
      lines.push(`  + got ${x.action.resource?.resourceType}/${x.action.resource?.id}: ${show(x.info?.['covered'])}`);
    return;
  }
  expected.forEach((e, i) => {
    const match = e.order
      ? actual.find((x) => `${x.action.resource?.resourceType}/${x.action.resource?.id}` === e.order)
      : actual[i];
    const label = e.order ?? `coverage[${i}]`;
    if (!match?.info) {
      lines.push(`${label}: no coverage-information action for this order`);
      return;
    }
    const info = match.info;
    const field = (name: string, want: string | string[] | undefined, key: string): void => {
      const got = info[key] ?? [];
      const same = show(Array.isArray(want) ? want : [want]) === show(got);
      diff(lines, `${label}.${name}`, want, Array.isArray(want) ? got : got[0], same);
    };
    field('covered', e.covered, 'covered');
    field('paNeeded', e.paNeeded, 'pa-needed');
    field('docNeeded', e.docNeeded, 'doc-needed');
    field('infoNeeded', e.infoNeeded, 'info-needed');
    field('billingCode', e.billingCode, 'billingCode');
  });
}

/** Each expected decision against the item with its sequence (or in order): action, number, documents wanted. */
export function compareDecisions(expected: ExpectedDecision[], actual: PasRuleDecision): string[] {
  const lines: string[] = [];
  expected.forEach((e, i) => {
    const got = e.sequence !== undefined ? actual.items.find((x) => x.sequence === e.sequence) : actual.items[i];
    const label = `decisions[${e.sequence ?? i}]`;
    if (!got) {
      lines.push(`${label}: no decision for this item`);
      return;
    }
    const field = (name: string, want: unknown, value: unknown): void =>
      diff(lines, `${label}.${name}`, want, value, show(want) === show(value));
    field('action', e.action, got.action);
    field('authorizationNumber', e.authorizationNumber, got.authorizationNumber);
    field('documentation', e.documentation, got.documentation?.map((d) => d.code) ?? []);
  });
  return lines;
}
