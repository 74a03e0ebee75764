/**
 * Bounds on evaluating a fact's FHIRPath, enforced without changing @medplum/core's evaluator: every atom of the
 * parsed expression gets an own `eval` that calls the original (the public `Atom` interface) and then meters what
 * it produced. A collection may hold at most `maxFhirPathCollection` items, a string built with `+` or `&` at most
 * `maxFhirPathString` characters, and one evaluation may do at most `maxFhirPathSteps` steps: each atom evaluation
 * counts one step plus one per item it yields (except `.` and the root, which pass on what their operands yielded
 * and counted), and the set functions, whose cost grows with the product of their
 * operands' sizes, are charged for their comparisons before they compare (see `SET_COMPARISONS_PER_STEP`).
 * Doubling a collection (`select($this.combine($this))` repeated) therefore fails after a few milliseconds.
 */
import {
  FhirPathAtom,
  FunctionAtom,
  InfixOperatorAtom,
  type Atom,
  type AtomContext,
  type TypedValue,
} from '@medplum/core';
import { RULE_SET_LIMITS } from './limits.js';

export interface FhirPathBounds {
  maxCollection: number;
  maxSteps: number;
  maxString: number;
}

const DEFAULT_FHIRPATH_BOUNDS: FhirPathBounds = {
  maxCollection: RULE_SET_LIMITS.maxFhirPathCollection,
  maxSteps: RULE_SET_LIMITS.maxFhirPathSteps,
  maxString: RULE_SET_LIMITS.maxFhirPathString,
};

/** An expression went over a bound; never swallowed as "no value", unlike other evaluation errors. */
export class FhirPathLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FhirPathLimitError';
  }
}

/**
 * Comparisons are far cheaper than producing items (measured here: ~10–40 ns against ~1 µs per item navigated),
 * so this many comparisons count as one step.
 */
export const SET_COMPARISONS_PER_STEP = 32;

/**
 * How a set operation compares: `dedupe` (`union`, `|`) compares every item with those kept so far, `pairwise`
 * (`exclude`, `subsetOf`, `supersetOf`) each input item with each item of the other collection, `intersect` both.
 */
type SetKind = 'dedupe' | 'pairwise' | 'intersect';

const SET_FUNCTIONS: ReadonlyMap<string, SetKind> = new Map<string, SetKind>([
  ['union', 'dedupe'],
  ['intersect', 'intersect'],
  ['exclude', 'pairwise'],
  ['subsetOf', 'pairwise'],
  ['supersetOf', 'pairwise'],
]);
/** Functions comparing every pair of items of their input. */
const SELF_COMPARING = new Set(['distinct', 'isDistinct']);

interface SetFrame {
  kind: SetKind;
  /** Items seen so far: the function's input, then each operand's items as they arrive. */
  size: number;
}

class Meter {
  steps = 0;
  failure: string | undefined;
  readonly frames: SetFrame[] = [];
  constructor(readonly bounds: FhirPathBounds) {}

  charge(steps: number): void {
    this.steps += steps;
    if (this.steps > this.bounds.maxSteps) this.fail(`takes more than ${this.bounds.maxSteps} FHIRPath steps`);
  }

  fail(message: string): never {
    this.failure ??= message;
    throw new FhirPathLimitError(this.failure);
  }
}

let active: Meter | undefined;

type Evaluate = (context: AtomContext, input: TypedValue[]) => TypedValue[];
type AnyAtom = Atom & Record<string, unknown>;

const isAtom = (value: unknown): value is AnyAtom =>
  typeof value === 'object' && value !== null && typeof (value as Atom).eval === 'function';

/** Atoms an atom holds (operands, arguments, the child of the root), whatever the field is called. */
export function childAtoms(atom: Atom): AnyAtom[] {
  return Object.values(atom)
    .flatMap((value: unknown) => (Array.isArray(value) ? (value as unknown[]) : [value]))
    .filter(isAtom);
}

const guarded = new WeakSet<Atom>();

/** Instruments every atom of a parsed expression once; evaluation is metered only inside `withFhirPathBounds`. */
export function guardFhirPath<T extends Atom>(root: T): T {
  const stack: { atom: AnyAtom; operand: boolean }[] = isAtom(root) ? [{ atom: root, operand: false }] : [];
  while (stack.length) {
    const { atom, operand } = stack.pop() as { atom: AnyAtom; operand: boolean };
    if (guarded.has(atom)) continue;
    guarded.add(atom);
    const setKind = setKindOf(atom);
    const operands = new Set<unknown>(
      setKind === undefined ? [] : atom instanceof FunctionAtom ? atom.args : [atom['left'], atom['right']],
    );
    for (const child of childAtoms(atom)) stack.push({ atom: child, operand: operands.has(child) });
    instrument(atom, setKind, operand);
  }
  return root;
}

function setKindOf(atom: Atom): SetKind | undefined {
  if (atom instanceof FunctionAtom) return SET_FUNCTIONS.get(atom.name);
  if (atom instanceof InfixOperatorAtom && atom.operator === '|') return 'dedupe';
  return undefined;
}

const builds = (atom: Atom): boolean =>
  atom instanceof InfixOperatorAtom && (atom.operator === '+' || atom.operator === '&');

function label(atom: Atom): string {
  const text = atom.toString();
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function instrument(atom: AnyAtom, setKind: SetKind | undefined, operand: boolean): void {
  const original = atom.eval.bind(atom) as Evaluate;
  const selfComparing = atom instanceof FunctionAtom && SELF_COMPARING.has(atom.name);
  const buildsStrings = builds(atom);
  const passesOn = atom instanceof FhirPathAtom || (atom instanceof InfixOperatorAtom && atom.operator === '.');
  // No medplum function is async: the meter active when an atom starts is the one it ends with.
  const evaluate: Evaluate = (context, input) => {
    const meter = active;
    if (!meter) return original(context, input);
    if (meter.failure) meter.fail(meter.failure);
    if (selfComparing) meter.charge((input.length * input.length) / 2 / SET_COMPARISONS_PER_STEP);
    let output: TypedValue[];
    if (setKind) {
      // UnionAtom's input is not an operand; a set function's input is its first.
      meter.frames.push({ kind: setKind, size: atom instanceof FunctionAtom ? input.length : 0 });
      try {
        output = original(context, input);
      } finally {
        meter.frames.pop();
      }
    } else {
      output = original(context, input);
    }
    meter.charge(passesOn ? 1 : 1 + output.length);
    if (output.length > meter.bounds.maxCollection) {
      meter.fail(`yields more than ${meter.bounds.maxCollection} items at ${label(atom)}`);
    }
    if (buildsStrings) {
      for (const item of output) {
        if (typeof item.value === 'string' && item.value.length > meter.bounds.maxString) {
          meter.fail(`builds a string longer than ${meter.bounds.maxString} characters at ${label(atom)}`);
        }
      }
    }
    // Charged before the set function starts comparing this operand's items.
    if (operand) chargeOperand(meter, output.length);
    return output;
  };
  (atom as { eval: Evaluate }).eval = evaluate;
}

function chargeOperand(meter: Meter, items: number): void {
  const frame = meter.frames[meter.frames.length - 1];
  if (!frame) return;
  const n = frame.size;
  const comparisons =
    frame.kind === 'dedupe'
      ? ((n + items) * (n + items) - n * n) / 2
      : frame.kind === 'intersect'
        ? n * items + (n * n) / 2
        : n * items;
  frame.size += items;
  meter.charge(comparisons / SET_COMPARISONS_PER_STEP);
}

/**
 * Runs one evaluation under fresh bounds. A bound that was crossed is thrown as FhirPathLimitError even where
 * @medplum/core rewrapped or caught the error on the way out.
 */
export function withFhirPathBounds<T>(evaluate: () => T, bounds: FhirPathBounds = DEFAULT_FHIRPATH_BOUNDS): T {
  const meter = new Meter(bounds);
  const previous = active;
  active = meter;
  try {
    const result = evaluate();
    if (meter.failure) throw new FhirPathLimitError(meter.failure);
    return result;
  } catch (err) {
    if (meter.failure) throw new FhirPathLimitError(meter.failure);
    throw err;
  } finally {
    active = previous;
  }
}
