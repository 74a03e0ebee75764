/** Limits that keep hostile rule sets out before anything is compiled (checked by `validateRuleSet`). */
export const RULE_SET_LIMITS = {
  maxRules: 5000,
  maxFacts: 200,
  maxConditionDepth: 8,
  /** Nesting of the whole document, checked before the JSON Schema runs (ajv recurses). */
  maxDocumentDepth: 40,
  maxFhirPathLength: 500,
  maxCodesPerList: 20_000,
  maxTestCases: 200,
  maxSummaryLength: 139,
  defaultFactMaxLength: 40,
} as const;
