/**
 * `validateRuleSet`: the save-time check (CLI `hookbot rules validate`, and deploy). Errors carry a JSON pointer
 * (RFC 6901) and a sentence an analyst can act on. The document's nesting is measured before the JSON Schema runs
 * so that hostile documents are refused before any recursive code sees them; the semantic checks run after the
 * schema, on the parts of the document they can read even when the schema refused others, so an analyst sees every
 * problem at once.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { RULE_SET_LIMITS } from './limits.js';
import { ruleSetSchema } from './schema.js';
import { checkSemantics, escapePointer, type RuleSetIssue } from './validate-semantics.js';
import type { RuleSetDocument } from './types.js';

export interface RuleSetValidation {
  valid: boolean;
  errors: RuleSetIssue[];
  warnings: RuleSetIssue[];
}

let schemaValidator: ValidateFunction | undefined;

export function validateRuleSet(doc: unknown): RuleSetValidation {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return invalid('', 'A rule set must be a JSON (or YAML) object.');
  }
  const shape = measure(doc);
  if (shape.depth > RULE_SET_LIMITS.maxDocumentDepth) {
    return invalid(shape.deepest, `The document is nested more than ${RULE_SET_LIMITS.maxDocumentDepth} levels deep.`);
  }
  if (shape.nodes > 2_000_000) {
    return invalid('', 'The document has more than 2,000,000 values; split the rule set.');
  }
  const validate = (schemaValidator ??= new Ajv2020({ allErrors: true, strict: false }).compile(ruleSetSchema));
  const schemaErrors = validate(doc) ? [] : schemaIssues(validate.errors ?? []);
  const errors: RuleSetIssue[] = [];
  const warnings: RuleSetIssue[] = [];
  // A problem the schema already reported at a place is not repeated.
  checkSemantics(doc as RuleSetDocument, errors, warnings, schemaErrors.length > 0);
  const reported = schemaErrors.map((e) => e.pointer);
  const more = errors.filter((e) => !reported.some((p) => e.pointer === p || e.pointer.startsWith(`${p}/`)));
  const all = [...schemaErrors, ...more];
  return { valid: all.length === 0, errors: all, warnings: schemaErrors.length > 0 ? [] : warnings };
}

function invalid(pointer: string, message: string): RuleSetValidation {
  return { valid: false, errors: [{ pointer, message }], warnings: [] };
}

/** Depth and node count without recursion (a hostile document may be nested 100,000 deep). */
function measure(doc: object): { depth: number; nodes: number; deepest: string } {
  const stack: [unknown, number, string][] = [[doc, 1, '']];
  let depth = 0;
  let nodes = 0;
  let deepest = '';
  while (stack.length > 0) {
    const [value, d, pointer] = stack.pop() as [unknown, number, string];
    nodes++;
    if (d > depth) {
      depth = d;
      deepest = pointer;
      if (depth > RULE_SET_LIMITS.maxDocumentDepth) break;
    }
    if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (typeof v === 'object' && v !== null) stack.push([v, d + 1, `${pointer}/${escapePointer(k)}`]);
        else nodes++;
      }
    }
    if (nodes > 2_000_000) break;
  }
  return { depth, nodes, deepest };
}

function schemaIssues(errors: ErrorObject[]): RuleSetIssue[] {
  // A failed oneOf also reports every branch's errors; keep only the oneOf's own sentence.
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.schemaPath + '/');
  const kept = errors.filter((e) => e.keyword !== 'if' && !oneOfPaths.some((p) => e.schemaPath.startsWith(p)));
  const seen = new Set<string>();
  const issues: RuleSetIssue[] = [];
  for (const e of kept) {
    const issue = toIssue(e);
    const id = `${issue.pointer}\u0000${issue.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    issues.push(issue);
  }
  return issues;
}

function toIssue(e: ErrorObject): RuleSetIssue {
  const at = e.instancePath;
  const where = at === '' ? 'The rule set' : `${describe(at)}`;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return {
        pointer: `${at}/${escapePointer(String(p['missingProperty']))}`,
        message: `${where} is missing the required property '${String(p['missingProperty'])}'.`,
      };
    case 'additionalProperties':
      return {
        pointer: `${at}/${escapePointer(String(p['additionalProperty']))}`,
        message: `${where} has an unknown property '${String(p['additionalProperty'])}'.`,
      };
    case 'enum':
      return {
        pointer: at,
        message: `${where} must be one of: ${(p['allowedValues'] as unknown[]).map(String).join(', ')}.`,
      };
    case 'const':
      return { pointer: at, message: `${where} must be '${String(p['allowedValue'])}'.` };
    case 'type':
      return { pointer: at, message: `${where} must be of type ${String(p['type'])}.` };
    case 'pattern':
      return { pointer: at, message: `${where} does not have the expected form (${String(p['pattern'])}).` };
    case 'oneOf':
      return {
        pointer: at,
        message: at.startsWith('/tests/')
          ? `${where} must give one of 'request', 'requestFile' or 'input'.`
          : `${where} does not match any of the allowed forms.`,
      };
    case 'propertyNames':
      return {
        pointer: at,
        message: `${where} has a name that is not allowed (letters, digits and _, starting with a letter).`,
      };
    default:
      return { pointer: at, message: `${where} ${e.message ?? 'is invalid'}.` };
  }
}

/** `/rules/3/events/0/summary` → `rules[3].events[0].summary` */
function describe(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}
