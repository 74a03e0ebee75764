/**
 * Reads a rule set from JSON or YAML text. YAML is parsed to plain data (no custom tags, no aliases beyond a
 * small budget) and `__proto__` keys are refused, so the result is safe to validate.
 */
import { parse as parseYaml } from 'yaml';

export class RuleSetParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleSetParseError';
  }
}

export function parseRuleSetText(text: string, fileName = ''): unknown {
  const trimmed = text.trimStart();
  const looksJson = fileName.endsWith('.json') || trimmed.startsWith('{');
  let value: unknown;
  try {
    value = looksJson ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100, customTags: [], uniqueKeys: true });
  } catch (err) {
    throw new RuleSetParseError(`${fileName || 'rule set'}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (hasProtoKey(value)) throw new RuleSetParseError(`${fileName || 'rule set'}: '__proto__' keys are not allowed`);
  return value;
}

function hasProtoKey(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    for (const key of Object.keys(value)) {
      if (key === '__proto__') return true;
      stack.push((value as Record<string, unknown>)[key]);
    }
  }
  return false;
}
