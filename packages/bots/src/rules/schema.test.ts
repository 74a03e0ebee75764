import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderSchema, SCHEMA_FILE } from '../../scripts/generate-schema.js';
import { parseRuleSetText, RuleSetParseError } from './parse.js';
import { ruleSetSchema } from './schema.js';

describe('published schema', () => {
  it('matches ruleSetSchema (regenerate packages/bots/schema/rule-set.schema.json when this fails)', () => {
    expect(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'))).toEqual(ruleSetSchema);
  });

  it('is the file `npm run generate` writes', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8'), 'run npm run generate').toBe(await renderSchema());
  });
});

describe('parseRuleSetText', () => {
  it('reads JSON and YAML', () => {
    expect(parseRuleSetText('{"id": "a"}')).toEqual({ id: 'a' });
    expect(parseRuleSetText('id: a\nrules: []\n', 'x.yaml')).toEqual({ id: 'a', rules: [] });
  });
  it('refuses __proto__ keys and broken text', () => {
    expect(() => parseRuleSetText('{"a": {"__proto__": {"x": 1}}}')).toThrow(RuleSetParseError);
    expect(() => parseRuleSetText('a:\n  __proto__:\n    x: 1\n', 'x.yaml')).toThrow(
      "'__proto__' keys are not allowed",
    );
    expect(() => parseRuleSetText('{"a": ', 'x.json')).toThrow(RuleSetParseError);
  });
});
