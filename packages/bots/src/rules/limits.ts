/**
 * Limits that keep hostile rule sets out before anything is compiled (checked by `validateRuleSet`), and the bounds
 * on evaluating a fact (checked while it runs, `fhirpath-guard.ts`).
 */
export const RULE_SET_LIMITS = {
  maxRules: 5000,
  maxFacts: 200,
  maxConditionDepth: 8,
  /** Nesting of the whole document, checked before the JSON Schema runs (ajv recurses). */
  maxDocumentDepth: 40,
  maxFhirPathLength: 500,
  /** Items in any collection a fact's FHIRPath produces, intermediate or final. */
  maxFhirPathCollection: 10_000,
  /** Work of one fact evaluation: a step per atom evaluated plus one per item it yields (~1 s here at the limit). */
  maxFhirPathSteps: 1_000_000,
  /** Characters in a string built with `+` or `&`. */
  maxFhirPathString: 10_000,
  maxCodesPerList: 20_000,
  maxTestCases: 200,
  maxSummaryLength: 139,
  defaultFactMaxLength: 40,
} as const;
