import { describe, expect, it } from 'vitest';
import { parseRuleSetText, pointerLocator } from './parse.js';

describe('parseRuleSetText', () => {
  it('gives the line and column of a JSON syntax error, as YAML errors do', () => {
    expect(() => parseRuleSetText('{\n  "id": "x",\n  "title": "y",,\n}', 'r.json')).toThrow(
      /^r\.json: .* at line 3, column 16$/,
    );
  });
});

describe('pointerLocator', () => {
  const json = '{\n  "id": "x",\n  "rules": [\n    { "name": "a", "conditions": { "all": [] } }\n  ]\n}\n';
  const yaml = 'id: x\nrules:\n  - name: a\n    conditions:\n      all: []\n';

  it.each([
    [json, '/id', 2, 9],
    [json, '/rules/0/conditions/all', 4, 43],
    [json, '/rules/0/missing', 4, 5],
    [yaml, '/rules/0/name', 3, 11],
    [yaml, '/rules/0/conditions/all', 5, 12],
    [yaml, '', 1, 1],
  ])('case %#', (text, pointer, line, column) => {
    expect(pointerLocator(text)(pointer)).toEqual({ line, column });
  });
});
