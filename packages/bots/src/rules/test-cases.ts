/**
 * `runRuleSetTests`: runs the test cases a rule set carries, in process, and explains each failure as a short
 * expected/actual diff (used by `hookbot rules test` and the server's test operation).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CdsRequest, CdsResponse } from '../cds/types.js';
import { readCoverageInformation } from './coverage.js';
import { evaluateCompiled } from './evaluate.js';
import { prepareRuleSet } from './run.js';
import { evaluatePriorAuthorization, type PasInput, type PasRuleDecision } from './prior-authorization.js';
import {
  PRIOR_AUTHORIZATION,
  type ExpectedCard,
  type ExpectedCoverage,
  type ExpectedDecision,
  type RuleSetTestCase,
} from './types.js';

export interface RuleSetTestResult {
  name: string;
  passed: boolean;
  diff?: string;
}

export const DEFAULT_TEST_NOW = '2026-01-15T12:00:00Z';

export async function runRuleSetTests(doc: unknown, options: { baseDir: string }): Promise<RuleSetTestResult[]> {
  const compiled = prepareRuleSet(doc);
  const results: RuleSetTestResult[] = [];
  for (const test of compiled.doc.tests ?? []) {
    try {
      const now = new Date(test.now ?? DEFAULT_TEST_NOW);
      let lines: string[];
      if (compiled.doc.hook === PRIOR_AUTHORIZATION) {
        const input = test.input ?? ((await loadRequest(test, options.baseDir)) as unknown as PasInput);
        lines = compareDecisions(
          test.expect.decisions ?? [],
          await evaluatePriorAuthorization(compiled, input, { now }),
        );
      } else {
        const request = await loadRequest(test, options.baseDir);
        lines = compareResponse(test.expect, await evaluateCompiled(compiled, request, { now }));
      }
      results.push(
        lines.length === 0
          ? { name: test.name, passed: true }
          : { name: test.name, passed: false, diff: lines.join('\n') },
      );
    } catch (err) {
      results.push({
        name: test.name,
        passed: false,
        diff: `error: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }
  return results;
}

async function loadRequest(test: RuleSetTestCase, baseDir: string): Promise<CdsRequest> {
  if (test.request) return test.request;
  const text = await readFile(resolve(baseDir, test.requestFile ?? ''), 'utf8');
  return JSON.parse(text) as CdsRequest;
}

const show = (v: unknown): string => JSON.stringify(v);

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
    const field = (name: string, want: unknown, got: unknown): void => {
      if (want !== undefined && want !== got) {
        lines.push(`cards[${i}].${name}`, `  - expected: ${show(want)}`, `  + actual:   ${show(got)}`);
      }
    };
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
      if (want === undefined) return;
      const got = info[key] ?? [];
      const wantList = Array.isArray(want) ? want : [want];
      if (show(wantList) !== show(got)) {
        lines.push(
          `${label}.${name}`,
          `  - expected: ${show(want)}`,
          `  + actual:   ${show(Array.isArray(want) ? got : got[0])}`,
        );
      }
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
    const field = (name: string, want: unknown, value: unknown) => {
      if (want !== undefined && show(want) !== show(value))
        lines.push(`${label}.${name}`, `  - expected: ${show(want)}`, `  + actual:   ${show(value)}`);
    };
    field('action', e.action, got.action);
    field('authorizationNumber', e.authorizationNumber, got.authorizationNumber);
    field('documentation', e.documentation, got.documentation?.map((d) => d.code) ?? []);
  });
  return lines;
}
