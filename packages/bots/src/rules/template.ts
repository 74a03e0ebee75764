/**
 * `{{name}}` placeholders in card text. A name is a fact or one of the built-ins below. Values render as text:
 * arrays joined with ", ", Codings as their code, and each value cut to the fact's `maxLength` so that the longest
 * possible summary is known when the rule set is saved.
 */
export const BUILT_IN_PLACEHOLDERS: Record<string, number> = {
  'order.id': 64,
  'order.resourceType': 32,
  'order.reference': 97,
  hook: 20,
  patientId: 64,
  rule: 100,
  'item.sequence': 4,
  'item.code': 64,
};

interface TemplatePart {
  text?: string;
  name?: string;
}

/** Splits a template; `{{` without a closing `}}` stays literal text. */
function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    const close = open >= 0 ? rest.indexOf('}}', open + 2) : -1;
    if (open < 0 || close < 0) {
      parts.push({ text: rest });
      break;
    }
    if (open > 0) parts.push({ text: rest.slice(0, open) });
    parts.push({ name: rest.slice(open + 2, close).trim() });
    rest = rest.slice(close + 2);
  }
  return parts;
}

export function placeholders(template: string): string[] {
  return parseTemplate(template)
    .map((p) => p.name)
    .filter((n): n is string => n !== undefined);
}

/** Longest possible rendering, given each placeholder's maximum length. */
export function maxRenderedLength(template: string, maxLengthOf: (name: string) => number): number {
  return parseTemplate(template).reduce((sum, p) => sum + (p.text?.length ?? maxLengthOf(p.name ?? '')), 0);
}

export function renderValue(value: unknown, maxLength: number): string {
  const text = toText(value);
  return text.length > maxLength ? `${text.slice(0, Math.max(0, maxLength - 1))}…` : text;
}

function toText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(toText).join(', ');
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record['code'] === 'string') return record['code'];
    if (typeof record['value'] === 'number' || typeof record['value'] === 'string') {
      const unit = typeof record['unit'] === 'string' ? ` ${record['unit']}` : '';
      return `${String(record['value'])}${unit}`;
    }
    if (typeof record['text'] === 'string') return record['text'];
    if (typeof record['reference'] === 'string') return record['reference'];
    return '';
  }
  return String(value);
}

export function renderTemplate(template: string, lookup: (name: string) => string): string {
  return parseTemplate(template)
    .map((p) => p.text ?? lookup(p.name ?? ''))
    .join('');
}
