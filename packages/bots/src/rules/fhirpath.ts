/**
 * Facts are FHIRPath expressions evaluated with @medplum/core (pre-parsed once per rule set, runtime-notes §4.2).
 * Only an allow-list of functions may be called: no `matches`/`replaceMatches` (author-supplied regular
 * expressions), no `repeat`/`descendants` (whole-tree walks), no `resolve`/`memberOf` (I/O).
 */
import { evalFhirPathTyped, parseFhirPath, toTypedValue, type FhirPathAtom, type TypedValue } from '@medplum/core';
import { RULE_SET_LIMITS } from './limits.js';

export const FHIRPATH_FUNCTIONS: ReadonlySet<string> = new Set([
  'where',
  'select',
  'exists',
  'empty',
  'all',
  'allTrue',
  'anyTrue',
  'allFalse',
  'anyFalse',
  'count',
  'distinct',
  'isDistinct',
  'first',
  'last',
  'tail',
  'skip',
  'take',
  'single',
  'ofType',
  'as',
  'is',
  'not',
  'iif',
  'union',
  'combine',
  'intersect',
  'exclude',
  'subsetOf',
  'supersetOf',
  'startsWith',
  'endsWith',
  'contains',
  'lower',
  'upper',
  'length',
  'substring',
  'indexOf',
  'toString',
  'toInteger',
  'toDecimal',
  'toDate',
  'toDateTime',
  'toBoolean',
  'convertsToInteger',
  'convertsToDate',
  'hasValue',
  'children',
  'today',
  'now',
  'extension',
  'getValue',
  'trim',
]);

export type FhirPathCheck = { atom: FhirPathAtom } | { error: string };

/** Parses an expression after the length and function checks. */
export function compileFhirPath(expression: string): FhirPathCheck {
  if (expression.length > RULE_SET_LIMITS.maxFhirPathLength) {
    return { error: `is longer than ${RULE_SET_LIMITS.maxFhirPathLength} characters` };
  }
  for (const fn of calledFunctions(expression)) {
    if (!FHIRPATH_FUNCTIONS.has(fn)) return { error: `calls ${fn}(), which rule sets may not use` };
  }
  try {
    return { atom: parseFhirPath(expression) };
  } catch (err) {
    return { error: `does not parse: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Names followed by `(`, outside string literals. */
export function calledFunctions(expression: string): string[] {
  const names: string[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression[i] ?? '';
    if (c === "'" || c === '`') {
      i++;
      while (i < expression.length && expression[i] !== c) i += expression[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < expression.length && /[A-Za-z0-9_]/.test(expression[i] ?? '')) i++;
      let j = i;
      while (expression[j] === ' ') j++;
      if (expression[j] === '(') names.push(expression.slice(start, i));
      continue;
    }
    i++;
  }
  return names;
}

/** Raw values of the result collection; evaluation errors give an empty collection. */
export function evaluateFhirPath(
  atom: FhirPathAtom,
  input: TypedValue,
  variables: Record<string, TypedValue>,
): unknown[] {
  try {
    return evalFhirPathTyped(atom, [input], variables).map((v) => v.value as unknown);
  } catch {
    return [];
  }
}

export { toTypedValue };
export type { FhirPathAtom, TypedValue };
