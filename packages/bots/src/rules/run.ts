/** `evaluateRuleSet`: validate (once per document object), compile (once), evaluate. */
import type { CdsRequest, CdsResponse } from '../cds/types.js';
import { compileRuleSet, isCompiledRuleSet, type CompiledRuleSet } from './compile.js';
import { evaluateCompiled, type EvaluateOptions } from './evaluate.js';
import type { RuleSetDocument } from './types.js';
import { validateRuleSet } from './validate.js';
import type { RuleSetIssue } from './validate-semantics.js';

export class InvalidRuleSetError extends Error {
  readonly issues: RuleSetIssue[];
  constructor(issues: RuleSetIssue[]) {
    super(`Invalid rule set: ${issues.map((i) => `${i.pointer || '/'} ${i.message}`).join('; ')}`);
    this.name = 'InvalidRuleSetError';
    this.issues = issues;
  }
}

const compiledByDoc = new WeakMap<object, CompiledRuleSet>();

/** Validates and compiles a document, cached per document object. Throws InvalidRuleSetError. */
export function prepareRuleSet(doc: unknown): CompiledRuleSet {
  if (isCompiledRuleSet(doc)) return doc;
  if (typeof doc === 'object' && doc !== null) {
    const cached = compiledByDoc.get(doc);
    if (cached) return cached;
  }
  const validation = validateRuleSet(doc);
  if (!validation.valid) throw new InvalidRuleSetError(validation.errors);
  const compiled = compileRuleSet(doc as RuleSetDocument);
  compiledByDoc.set(doc as object, compiled);
  return compiled;
}

export async function evaluateRuleSet(
  doc: RuleSetDocument | CompiledRuleSet | unknown,
  request: CdsRequest,
  options?: EvaluateOptions,
): Promise<CdsResponse> {
  return evaluateCompiled(prepareRuleSet(doc), request, options);
}
