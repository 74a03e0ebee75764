/**
 * `Bot.cdsService` when a Bot is saved (validateCdsServiceConfig) and its discovery entry (toServiceDescription,
 * CDS Hooks 2.0 "Discovery": no empty strings, arrays or objects are emitted).
 */
import type { CdsIssue } from './issues.js';
import { parsePrefetchQuery } from './prefetch.js';
import type { BotCdsService, CdsServiceDescription } from './types.js';
import { isNonEmptyString, isRecord } from './util.js';

const ROOT = 'Bot.cdsService';
const KNOWN_FIELDS = new Set(['hook', 'title', 'description', 'usageRequirements', 'prefetch', 'crd']);

export function validateCdsServiceConfig(cdsService: unknown): CdsIssue[] {
  if (!isRecord(cdsService)) return [{ path: ROOT, message: 'cdsService must be an object' }];
  const issues: CdsIssue[] = [];
  const issue = (field: string, message: string): number => issues.push({ path: `${ROOT}.${field}`, message });
  for (const field of ['hook', 'title', 'description'] as const) {
    if (!isNonEmptyString(cdsService[field])) issue(field, `${field} is required and must be a non-empty string`);
  }
  if (isNonEmptyString(cdsService.hook) && /[\s/]/.test(cdsService.hook)) {
    issue('hook', 'hook must be a hook name such as order-sign');
  }
  if (cdsService.usageRequirements !== undefined && !isNonEmptyString(cdsService.usageRequirements)) {
    issue('usageRequirements', 'usageRequirements must be a non-empty string');
  }
  if (cdsService.crd !== undefined && typeof cdsService.crd !== 'boolean') issue('crd', 'crd must be a boolean');
  for (const key of Object.keys(cdsService)) {
    if (!KNOWN_FIELDS.has(key)) issue(key, `Unknown field ${key}`);
  }
  if (cdsService.prefetch !== undefined) issues.push(...validatePrefetchList(cdsService.prefetch));
  return issues;
}

function validatePrefetchList(prefetch: unknown): CdsIssue[] {
  if (!Array.isArray(prefetch))
    return [{ path: `${ROOT}.prefetch`, message: 'prefetch must be a list of {key, query}' }];
  const issues: CdsIssue[] = [];
  const seen = new Set<string>();
  prefetch.forEach((item: unknown, i) => {
    const path = `${ROOT}.prefetch[${i}]`;
    if (!isRecord(item)) {
      issues.push({ path, message: 'Each prefetch entry must be an object {key, query}' });
      return;
    }
    if (!isNonEmptyString(item.key)) {
      issues.push({ path: `${path}.key`, message: 'key is required and must be a non-empty string' });
    } else if (seen.has(item.key)) {
      issues.push({ path: `${path}.key`, message: `Duplicate prefetch key ${item.key}` });
    } else {
      seen.add(item.key);
    }
    if (!isNonEmptyString(item.query)) {
      issues.push({ path: `${path}.query`, message: 'query is required and must be a non-empty string' });
    } else {
      const parsed = parsePrefetchQuery(item.query);
      if (!parsed.ok) issues.push({ path: `${path}.query`, message: parsed.issue });
    }
  });
  return issues;
}

/** The discovery entry for a Bot; `id` is the Bot id (`POST /cds-services/{Bot.id}`). */
export function toServiceDescription(botId: string, cdsService: BotCdsService): CdsServiceDescription {
  const description: CdsServiceDescription = { hook: cdsService.hook, description: cdsService.description, id: botId };
  if (isNonEmptyString(cdsService.title)) description.title = cdsService.title;
  const prefetch: Record<string, string> = {};
  for (const { key, query } of cdsService.prefetch ?? []) {
    if (isNonEmptyString(key) && isNonEmptyString(query)) prefetch[key] = query;
  }
  if (Object.keys(prefetch).length > 0) description.prefetch = prefetch;
  if (isNonEmptyString(cdsService.usageRequirements)) description.usageRequirements = cdsService.usageRequirements;
  return description;
}
