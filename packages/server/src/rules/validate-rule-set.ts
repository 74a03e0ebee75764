/**
 * `Bot/$validate-rules`: the checks of `hookbot rules validate` as an API, for the console's validation as you type
 * and for any client. Always 200 with the verdict (an invalid rule set is the answer, not a failed request): the same
 * `{pointer, message}` issues as the CLI, with the line and column in the text when the text was sent (JSON or YAML).
 */
import { parseRuleSetText, pointerLocator, RuleSetParseError, validateRuleSet } from '@hookbot/bots';
import { badRequest } from '../infra/errors.js';
import { ruleSetOf } from './deploy-rule-set.js';

export interface LocatedRuleSetIssue {
  pointer: string;
  message: string;
  line?: number;
  column?: number;
}

export interface RuleSetVerdict {
  valid: boolean;
  errors: LocatedRuleSetIssue[];
  warnings: LocatedRuleSetIssue[];
  /** The parsed document, when `text` was sent: the console's form view reads it. */
  ruleSet?: unknown;
}

/** Body: `{"text": "...", "fileName"?: "x.yaml"}` (JSON or YAML text), `{"ruleSet": {...}}` or the document. */
export function validateRuleSetBody(body: unknown): RuleSetVerdict {
  const text =
    typeof body === 'object' && body !== null && 'text' in body ? (body as { text: unknown }).text : undefined;
  if (text === undefined) {
    const result = validateRuleSet(ruleSetOf(body));
    return { valid: result.valid, errors: result.errors, warnings: result.warnings };
  }
  if (typeof text !== 'string') throw badRequest('rules.invalid-rule-set', '"text" must be a string', 'text');
  const fileName = (body as { fileName?: unknown }).fileName;
  let doc: unknown;
  try {
    doc = parseRuleSetText(text, typeof fileName === 'string' ? fileName : '');
  } catch (err) {
    // A document that does not parse is one error at its root, as the CLI reports it.
    if (err instanceof RuleSetParseError)
      return { valid: false, errors: [{ pointer: '', message: err.message }], warnings: [] };
    throw err;
  }
  const result = validateRuleSet(doc);
  const locate = pointerLocator(text);
  const located = (issue: { pointer: string; message: string }): LocatedRuleSetIssue => ({
    ...issue,
    ...locate(issue.pointer),
  });
  return {
    valid: result.valid,
    errors: result.errors.map(located),
    warnings: result.warnings.map(located),
    ruleSet: doc,
  };
}
