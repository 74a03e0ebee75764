/**
 * Facts are FHIRPath expressions evaluated with @medplum/core (pre-parsed once per rule set).
 * Only an allow-list of functions may be called: no `matches`/`replaceMatches` (author-supplied regular
 * expressions), no `repeat`/`descendants` (whole-tree walks), no `resolve`/`memberOf` (I/O). Evaluation is bounded
 * in collection sizes and work (`fhirpath-guard.ts`).
 */
import {
  evalFhirPathTyped,
  FunctionAtom,
  parseFhirPath,
  Tokenizer,
  toTypedValue,
  type Atom,
  type FhirPathAtom,
  type TypedValue,
} from '@medplum/core';
import { childAtoms, FhirPathLimitError, guardFhirPath, withFhirPathBounds } from './fhirpath-guard.js';
import { RULE_SET_LIMITS } from './limits.js';

/** The functions rule sets may call, by section of the FHIRPath specification. */
const FHIRPATH_FUNCTIONS: ReadonlySet<string> = new Set(
  [
    // existence
    ['exists', 'empty', 'all', 'allTrue', 'anyTrue', 'allFalse', 'anyFalse', 'count', 'distinct', 'isDistinct'],
    ['subsetOf', 'supersetOf'],
    // filtering, projection, subsetting, combining
    ['where', 'select', 'ofType', 'single', 'first', 'last', 'tail', 'skip', 'take', 'intersect', 'exclude'],
    ['union', 'combine'],
    // conversion
    ['iif', 'toString', 'toInteger', 'toDecimal', 'toDate', 'toDateTime', 'toBoolean', 'convertsToInteger'],
    ['convertsToDate'],
    // strings
    ['startsWith', 'endsWith', 'contains', 'lower', 'upper', 'length', 'substring', 'indexOf', 'trim'],
    // types, boolean logic, tree navigation, utility, FHIR's additions
    ['as', 'is', 'not', 'children', 'today', 'now', 'extension', 'hasValue', 'getValue'],
  ].flat(),
);

export type FhirPathCheck = { atom: FhirPathAtom } | { error: string };

/**
 * Parses an expression, then checks its length and every function it calls against the allow-list; the atom it
 * returns evaluates under the bounds of `evaluateFhirPath`.
 */
export function compileFhirPath(expression: string): FhirPathCheck {
  if (expression.length > RULE_SET_LIMITS.maxFhirPathLength) {
    return { error: `is longer than ${RULE_SET_LIMITS.maxFhirPathLength} characters` };
  }
  let atom: FhirPathAtom;
  try {
    atom = parseFhirPath(expression);
  } catch (err) {
    return { error: `does not parse: ${parseErrorMessage(expression, err)}` };
  }
  for (const fn of calledFunctions(atom)) {
    if (!FHIRPATH_FUNCTIONS.has(fn)) return { error: `calls ${fn}(), which rule sets may not use` };
  }
  return { atom: guardFhirPath(atom) };
}

/**
 * The parser's "Cant consume unknown more tokens." means the expression ended while it still expected something
 * (an operand, a closing parenthesis); say so, and after which token. Other parse errors already name a position.
 * The expression is tokenized the way @medplum/core's parser does (its keywords and operators).
 */
function parseErrorMessage(expression: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (!message.startsWith('Cant consume')) return message;
  try {
    const tokens = new Tokenizer(expression, ['true', 'false'], ['!=', '!~', '<=', '>=', '{}', '->']).tokenize();
    const last = tokens.at(-1);
    if (!last) return 'the expression is empty';
    return `it ends too early: something is missing after '${last.value}' (line ${last.line}, column ${last.column + 1}), such as an operand or a closing parenthesis`;
  } catch {
    return 'it ends too early (an operand or a closing parenthesis is missing)';
  }
}

/**
 * Every function the parsed expression calls, found in the parse tree (a text scan misses `` `resolve`() `` and
 * `resolve\t()`, which the parser reads as calls). Children are whatever atoms an atom holds, so no atom type is
 * skipped.
 */
function calledFunctions(root: Atom): string[] {
  const names: string[] = [];
  const stack: Atom[] = [root];
  while (stack.length) {
    const atom = stack.pop() as Atom;
    if (atom instanceof FunctionAtom) names.push(atom.name);
    // Reversed onto the stack, so calls are reported in the order they are written.
    stack.push(...childAtoms(atom).reverse());
  }
  return names;
}

/**
 * Raw values of the result collection; evaluation errors give an empty collection, except a crossed bound, which
 * throws FhirPathLimitError.
 */
export function evaluateFhirPath(
  atom: FhirPathAtom,
  input: TypedValue,
  variables: Record<string, TypedValue>,
): unknown[] {
  try {
    return withFhirPathBounds(() => evalFhirPathTyped(atom, [input], variables)).map((v) => v.value as unknown);
  } catch (err) {
    if (err instanceof FhirPathLimitError) throw err;
    return [];
  }
}

export { toTypedValue };
export type { FhirPathAtom, TypedValue };
