/**
 * Reads a rule set from JSON or YAML text. YAML is parsed to plain data (no custom tags, no aliases beyond a
 * small budget) and `__proto__` keys are refused, so the result is safe to validate.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, parse as parseYaml, type Node } from 'yaml';

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
    const message = err instanceof Error ? err.message : String(err);
    throw new RuleSetParseError(`${fileName || 'rule set'}: ${looksJson ? withLineAndColumn(message, text) : message}`);
  }
  if (hasProtoKey(value)) throw new RuleSetParseError(`${fileName || 'rule set'}: '__proto__' keys are not allowed`);
  return value;
}

/** JSON.parse says "at position 184" (Node 20) or adds "(line 5 column 3)" (Node 22): say line and column. */
function withLineAndColumn(message: string, text: string): string {
  const match = /at position (\d+)(?: \(line \d+ column \d+\))?/.exec(message);
  if (!match) return message;
  const before = text.slice(0, Number(match[1])).split('\n');
  return message.replace(match[0], `at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`);
}

/**
 * Where JSON Pointers point in the rule set's text (JSON or YAML; YAML reads JSON too): the text is parsed once, at
 * the first pointer, and each pointer gives the line and column of its value, or of the nearest enclosing one that
 * exists (a missing property points at its object).
 */
export function pointerLocator(text: string): (pointer: string) => { line: number; column: number } | undefined {
  const lineCounter = new LineCounter();
  let doc: ReturnType<typeof parseDocument> | null | undefined;
  return (pointer) => {
    if (doc === undefined) {
      try {
        doc = parseDocument(text, { lineCounter, uniqueKeys: false });
      } catch {
        doc = null;
      }
    }
    if (doc === null) return undefined;
    let node: unknown = doc.contents;
    let at: Node | undefined = doc.contents ?? undefined;
    for (const raw of pointer.split('/').slice(1)) {
      const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
        if (!pair) break;
        node = pair.value;
        at = (isScalar(pair.value) || isMap(pair.value) || isSeq(pair.value) ? pair.value : pair.key) as Node;
      } else if (isSeq(node) && /^\d+$/.test(segment) && node.items[Number(segment)]) {
        node = node.items[Number(segment)];
        at = node as Node;
      } else break;
    }
    const offset = at?.range?.[0];
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
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
