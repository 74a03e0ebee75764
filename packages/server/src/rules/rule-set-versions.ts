/**
 * A rule-set Bot's versions as analysts read them: `Bot/{id}/$rule-set` (the rule set a version serves) and
 * `Bot/{id}/$rule-set-diff` (a readable line diff between two versions). The list of versions with who made each is
 * the Bot's `_history`. Reads go through the caller's repository: its project and scopes.
 */
import type { Binary, Bot } from '@medplum/fhirtypes';
import { RULES_CONTENT_TYPE } from '../bots/code.js';
import type { Repository } from '../fhir/repository.js';
import { badRequest, HookbotError } from '../infra/errors.js';

export interface RuleSetVersion {
  botId: string;
  version: string;
  lastUpdated?: string;
  ruleSet: unknown;
}

/** The rule set a version of the Bot serves (the current one without `version`); 422 for a coded Bot. */
export async function ruleSetAt(repo: Repository, botId: string, version?: string): Promise<RuleSetVersion> {
  const bot = version ? await repo.vread<Bot>('Bot', botId, version) : await repo.read<Bot>('Bot', botId);
  const binaryId = /^Binary\/([A-Za-z0-9\-.]{1,64})$/.exec(bot.executableCode?.url ?? '')?.[1];
  if (bot.executableCode?.contentType !== RULES_CONTENT_TYPE || !binaryId) {
    throw new HookbotError('rules.not-a-rule-set', `Bot/${botId} version ${bot.meta?.versionId} serves no rule set`);
  }
  const binary = await repo.read<Binary>('Binary', binaryId);
  let ruleSet: unknown;
  try {
    ruleSet = JSON.parse(Buffer.from(binary.data ?? '', 'base64').toString('utf8'));
  } catch {
    throw new HookbotError('rules.not-a-rule-set', `The rule set of Bot/${botId} is not JSON`);
  }
  return { botId, version: bot.meta?.versionId ?? '', lastUpdated: bot.meta?.lastUpdated, ruleSet };
}

export interface DiffLine {
  /** `=` unchanged, `-` only in `from`, `+` only in `to`. */
  op: '=' | '-' | '+';
  text: string;
}

export interface RuleSetDiff {
  from: string;
  to: string;
  changed: number;
  lines: DiffLine[];
}

export async function ruleSetDiff(
  repo: Repository,
  botId: string,
  query: Record<string, unknown>,
): Promise<RuleSetDiff> {
  const version = (name: string): string => {
    const value = query[name];
    if (typeof value !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(value)) {
      throw badRequest('bot.invalid-request', `"${name}" (a Bot versionId from its _history) is required`, name);
    }
    return value;
  };
  const [from, to] = await Promise.all([
    ruleSetAt(repo, botId, version('from')),
    ruleSetAt(repo, botId, version('to')),
  ]);
  const lines = diffLines(pretty(from.ruleSet), pretty(to.ruleSet));
  return { from: from.version, to: to.version, changed: lines.filter((l) => l.op !== '=').length, lines };
}

/** Two-space JSON: one property per line, so a diff names the property that changed. */
function pretty(value: unknown): string[] {
  return JSON.stringify(value, null, 2).split('\n');
}

/** Beyond this many cells the middle is shown as removed then added, instead of a quadratic table. */
const MAX_LCS_CELLS = 4_000_000;

/** A line diff: common prefix and suffix, then a longest-common-subsequence table over what is left. */
export function diffLines(a: string[], b: string[]): DiffLine[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head = a.slice(0, start).map((text): DiffLine => ({ op: '=', text }));
  const tail = a.slice(endA).map((text): DiffLine => ({ op: '=', text }));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  if ((n + 1) * (m + 1) > MAX_LCS_CELLS) {
    return [
      ...head,
      ...midA.map((text): DiffLine => ({ op: '-', text })),
      ...midB.map((text): DiffLine => ({ op: '+', text })),
      ...tail,
    ];
  }
  // lengths[i][j]: LCS of midA[i..] and midB[j..], in one flat array.
  const lengths = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * (m + 1) + j] =
        midA[i] === midB[j]
          ? (lengths[(i + 1) * (m + 1) + j + 1] as number) + 1
          : Math.max(lengths[(i + 1) * (m + 1) + j] as number, lengths[i * (m + 1) + j + 1] as number);
    }
  }
  const middle: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      middle.push({ op: '=', text: midA[i++] as string });
      j++;
    } else if (
      // On a tie the removal comes first, as diff tools print a changed line: `-` old, then `+` new.
      j < m &&
      (i === n || (lengths[i * (m + 1) + j + 1] as number) > (lengths[(i + 1) * (m + 1) + j] as number))
    ) {
      middle.push({ op: '+', text: midB[j++] as string });
    } else {
      middle.push({ op: '-', text: midA[i++] as string });
    }
  }
  return [...head, ...middle, ...tail];
}
