/**
 * Payer operators added to json-rules-engine. Every operator is total (never throws: anything unexpected is
 * `false`) and linear in its input; none takes a regular expression from a rule author. A fact that is an array
 * satisfies a date, age or quantity operator when any element does.
 */
import { CodeMatcher, codesOf } from './codes.js';
import type { CodeList } from './types.js';
import { addToDay, ageInYears, compareDates, parseFhirDate, resolveReference, todayIn, type DateEnv } from './dates.js';
import { isRecord } from '../cds/util.js';

export type OperatorFn = (factValue: unknown, jsonValue: unknown) => boolean;

export interface OperatorEnv extends DateEnv {
  valueSets: Record<string, CodeList>;
}

const COMPARE = {
  lt: (a: number, b: number) => a < b,
  lte: (a: number, b: number) => a <= b,
  gt: (a: number, b: number) => a > b,
  gte: (a: number, b: number) => a >= b,
  eq: (a: number, b: number) => a === b,
  ne: (a: number, b: number) => a !== b,
};
type Compare = keyof typeof COMPARE;
const COMPARES: readonly string[] = Object.keys(COMPARE);

/** json-rules-engine's own operators and decorators (7.3). */
export const BUILT_IN_OPERATORS: readonly string[] = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
];
export const OPERATOR_DECORATORS: readonly string[] = [
  'everyFact',
  'someFact',
  'everyValue',
  'someValue',
  'not',
  'swap',
];

/** Checks a condition's `value` for a custom operator at save time; returns a sentence or undefined. */
type ValueCheck = (value: unknown, valueSets: Record<string, CodeList>) => string | undefined;

const isDateRef = (v: unknown): boolean => v === 'today' || v === 'now' || parseFhirDate(v) !== undefined;

const checkCodes: ValueCheck = (value, valueSets) => {
  if (Array.isArray(value)) return value.every((c) => typeof c === 'string') ? undefined : 'codes must be strings';
  if (isRecord(value) && typeof value['valueSet'] === 'string') {
    return valueSets[value['valueSet']] ? undefined : `value set '${value['valueSet']}' is not defined in valueSets`;
  }
  if (isRecord(value) && Array.isArray(value['codes']) && value['codes'].every((c) => typeof c === 'string')) {
    return value['system'] === undefined || typeof value['system'] === 'string' ? undefined : 'system must be a string';
  }
  return 'value must be a list of codes, {"system", "codes"} or {"valueSet"}';
};

const checkDate: ValueCheck = (value) =>
  isDateRef(value) ? undefined : 'value must be "today", "now" or a FHIR date such as 2026-01-31';

const checkCompare = (value: unknown, numberKey: string): string | undefined => {
  if (!isRecord(value)) return `value must be an object such as {"compare": "gte", "${numberKey}": 18}`;
  if (typeof value['compare'] !== 'string' || !COMPARES.includes(value['compare'])) {
    return `compare must be one of ${COMPARES.join(', ')}`;
  }
  if (typeof value[numberKey] !== 'number' || !Number.isFinite(value[numberKey]))
    return `${numberKey} must be a number`;
  return undefined;
};

export const CUSTOM_OPERATOR_CHECKS: Record<string, ValueCheck> = {
  codeIn: checkCodes,
  inValueSet: (value, valueSets) =>
    typeof value === 'string' && valueSets[value] ? undefined : 'value must name a value set defined in valueSets',
  dateBefore: checkDate,
  dateAfter: checkDate,
  dateOnOrBefore: checkDate,
  dateOnOrAfter: checkDate,
  dateWithin: (value) => {
    if (!isRecord(value)) return 'value must be an object such as {"days": 30, "direction": "past"}';
    const amounts = ['days', 'months', 'years'].filter((k) => value[k] !== undefined);
    if (amounts.length === 0) return 'give days, months or years';
    if (amounts.some((k) => typeof value[k] !== 'number' || (value[k] as number) < 0))
      return 'amounts must be numbers ≥ 0';
    if (value['of'] !== undefined && !isDateRef(value['of'])) return 'of must be "today", "now" or a FHIR date';
    const direction = value['direction'];
    if (direction !== undefined && direction !== 'past' && direction !== 'future' && direction !== 'either') {
      return 'direction must be past, future or either';
    }
    return undefined;
  },
  ageAtDate: (value) => {
    const error = checkCompare(value, 'years');
    if (error) return error;
    const at = (value as Record<string, unknown>)['at'];
    return at === undefined || isDateRef(at) ? undefined : 'at must be "today" or a FHIR date';
  },
  quantityCompare: (value) => {
    const error = checkCompare(value, 'value');
    if (error) return error;
    const unit = (value as Record<string, unknown>)['unit'];
    return unit === undefined || typeof unit === 'string' ? undefined : 'unit must be a string';
  },
  exists: (value) => (typeof value === 'boolean' ? undefined : 'value must be true or false'),
};

export const CUSTOM_OPERATORS: readonly string[] = Object.keys(CUSTOM_OPERATOR_CHECKS);

/** Splits `not:someFact:codeIn` into decorators and the operator; undefined names are reported by the caller. */
export function splitOperator(name: string): { decorators: string[]; operator: string } {
  const parts = name.split(':');
  const operator = parts.pop() ?? '';
  return { decorators: parts, operator };
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

function total(fn: OperatorFn): OperatorFn {
  return (factValue, jsonValue) => {
    try {
      return fn(factValue, jsonValue);
    } catch {
      return false;
    }
  };
}

/**
 * The code matchers of one rule set's conditions and value sets, built on first use and kept with the compiled
 * rule set: they depend on the rules only, not on a request.
 */
export class CodeMatchers {
  private readonly byCondition = new WeakMap<object, CodeMatcher>();
  private readonly byValueSet = new Map<string, CodeMatcher>();

  constructor(private readonly valueSets: Record<string, CodeList>) {}

  /** For a `codeIn` value (a code list or a value-set reference). */
  forCondition(value: unknown): CodeMatcher | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    let matcher = this.byCondition.get(value);
    if (!matcher) {
      const list = toCodeList(value, this.valueSets);
      if (!list) return undefined;
      matcher = new CodeMatcher(list.codes, list.system);
      this.byCondition.set(value, matcher);
    }
    return matcher;
  }

  forValueSet(name: string): CodeMatcher | undefined {
    let matcher = this.byValueSet.get(name);
    const list = this.valueSets[name];
    if (!matcher && list) {
      matcher = new CodeMatcher(list.codes, list.system);
      this.byValueSet.set(name, matcher);
    }
    return matcher;
  }
}

/** The custom operators bound to one evaluation's clock and time zone, and to a rule set's code matchers. */
export function createOperators(
  env: OperatorEnv,
  matchers: CodeMatchers = new CodeMatchers(env.valueSets),
): Record<string, OperatorFn> {
  const dateOp = (test: (cmp: number) => boolean): OperatorFn =>
    total((fact, ref) => {
      const reference = resolveReference(ref, env);
      if (!reference) return false;
      return asList(fact).some((item) => {
        const date = parseFhirDate(item);
        return date !== undefined && test(compareDates(date, reference));
      });
    });

  return {
    codeIn: total((fact, value) => {
      const matcher = matchers.forCondition(value);
      return matcher !== undefined && codesOf(fact).some((c) => matcher.matches(c));
    }),
    inValueSet: total((fact, name) => {
      if (typeof name !== 'string') return false;
      const matcher = matchers.forValueSet(name);
      return matcher !== undefined && codesOf(fact).some((c) => matcher.matches(c));
    }),
    dateBefore: dateOp((c) => c < 0),
    dateAfter: dateOp((c) => c > 0),
    dateOnOrBefore: dateOp((c) => c <= 0),
    dateOnOrAfter: dateOp((c) => c >= 0),
    dateWithin: total((fact, value) => {
      const v = value as { days?: number; months?: number; years?: number; of?: unknown; direction?: string };
      const reference = resolveReference(v.of ?? 'today', env);
      if (!reference) return false;
      const from = v.direction === 'future' ? reference.day : addToDay(reference.day, v, -1);
      const to = v.direction === 'past' ? reference.day : addToDay(reference.day, v, 1);
      return asList(fact).some((item) => {
        const date = parseFhirDate(item);
        return date !== undefined && date.day >= from && date.day <= to;
      });
    }),
    ageAtDate: total((fact, value) => {
      const v = value as { compare: Compare; years: number; at?: unknown };
      const at = v.at === undefined ? todayIn(env.now, env.timeZone) : resolveReference(v.at, env)?.day;
      if (at === undefined) return false;
      return asList(fact).some((item) => {
        const birth = parseFhirDate(item);
        return birth !== undefined && COMPARE[v.compare](ageInYears(birth, at), v.years);
      });
    }),
    quantityCompare: total((fact, value) => {
      const v = value as { compare: Compare; value: number; unit?: string };
      return asList(fact).some((item) => {
        const q = toQuantity(item);
        if (!q) return false;
        if (v.unit !== undefined && q.unit !== undefined && q.unit !== v.unit) return false;
        if (v.unit !== undefined && q.unit === undefined && typeof item === 'object') return false;
        return COMPARE[v.compare](q.value, v.value);
      });
    }),
    exists: total((fact, expected) => {
      const present = fact !== undefined && fact !== null && fact !== '' && !(Array.isArray(fact) && fact.length === 0);
      return present === expected;
    }),
  };
}

function toCodeList(value: unknown, valueSets: Record<string, CodeList>): CodeList | undefined {
  if (Array.isArray(value)) return { codes: value.filter((c): c is string => typeof c === 'string') };
  if (!isRecord(value)) return undefined;
  if (typeof value['valueSet'] === 'string') return valueSets[value['valueSet']];
  if (Array.isArray(value['codes'])) {
    const codes = value['codes'].filter((c): c is string => typeof c === 'string');
    return typeof value['system'] === 'string' ? { system: value['system'], codes } : { codes };
  }
  return undefined;
}

function toQuantity(item: unknown): { value: number; unit?: string } | undefined {
  if (typeof item === 'number') return Number.isFinite(item) ? { value: item } : undefined;
  if (!isRecord(item) || typeof item['value'] !== 'number') return undefined;
  const unit =
    typeof item['code'] === 'string' ? item['code'] : typeof item['unit'] === 'string' ? item['unit'] : undefined;
  return unit === undefined ? { value: item['value'] } : { value: item['value'], unit };
}
