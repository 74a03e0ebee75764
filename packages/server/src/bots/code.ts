/**
 * Where a bot's code lives: a Binary referenced by `Bot.executableCode` (and the TypeScript source by
 * `Bot.sourceCode`). The Binary is read each time the bot cache loads the bot, not cached by id: an administrator may
 * replace a Binary in place, and the bot must run what it holds (the bot cache loads every bot again then).
 * Only rule sets' built code is kept, by the rule set's content hash (the build depends on nothing else).
 */
import { createHash } from 'node:crypto';
import { buildRuleBotCode } from '@hookbot/bots/build';
import type { Attachment, Binary, Bot } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.js';
import { HookbotError } from '../infra/errors.js';

export const JS_CONTENT_TYPE = 'application/javascript';
export const TS_CONTENT_TYPE = 'text/typescript';
/** A rule set (JSON): the bot's code is built from it by the platform, so it runs as trusted code. */
export const RULES_CONTENT_TYPE = 'application/vnd.hookbot.rules+json';

export async function storeCodeBinary(
  repo: Repository,
  code: string,
  contentType: string,
  title?: string,
): Promise<Attachment> {
  const binary = await repo.create<Binary>({
    resourceType: 'Binary',
    contentType,
    data: Buffer.from(code, 'utf8').toString('base64'),
  });
  return {
    contentType,
    url: `Binary/${binary.id}`,
    ...(title ? { title } : {}),
    size: Buffer.byteLength(code),
  };
}

export interface LoadedCode {
  /** Binary id + version: changes on every deploy, so it keys compiled-script caches. */
  version: string;
  code: string;
  filename?: string;
  /** Platform-built code (rule sets): may keep a warm context between runs. */
  trusted?: boolean;
}

const MAX_CACHED = 500;
/** Built rule-set code by the SHA-256 of the rule set. */
const built = new Map<string, string>();

function binaryId(attachment: Attachment | undefined): string | undefined {
  const match = /^Binary\/([A-Za-z0-9\-.]{1,64})$/.exec(attachment?.url ?? '');
  return match?.[1];
}

async function ruleSetCode(text: string, hash: string): Promise<string> {
  const cached = built.get(hash);
  if (cached) return cached;
  try {
    const code = await buildRuleBotCode(JSON.parse(text));
    if (built.size >= MAX_CACHED) built.delete(built.keys().next().value as string);
    built.set(hash, code);
    return code;
  } catch (err) {
    throw new HookbotError(
      'bot.rule-set-unbuildable',
      `The stored rule set cannot be built: ${err instanceof Error ? err.message : 'invalid'}`,
    );
  }
}

/** The bot's executable code; 422 when nothing is deployed. */
export async function loadBotCode(repo: Repository, bot: Bot): Promise<LoadedCode> {
  const id = binaryId(bot.executableCode);
  if (!id) {
    throw new HookbotError('bot.no-code', `Bot ${bot.id} has no deployed code: POST Bot/${bot.id}/$deploy first`);
  }
  const binary = await repo.read<Binary>('Binary', id);
  const text = Buffer.from(binary.data ?? '', 'base64').toString('utf8');
  const isRuleSet = bot.executableCode?.contentType === RULES_CONTENT_TYPE;
  // The content hash makes the version unforgeable: a Binary id and version can be chosen by a client.
  const hash = createHash('sha256').update(text).digest('hex');
  return {
    version: `${id}@${binary.meta?.versionId ?? '1'}#${hash.slice(0, 16)}`,
    code: isRuleSet ? await ruleSetCode(text, hash) : text,
    ...(bot.executableCode?.title ? { filename: bot.executableCode.title } : {}),
    ...(isRuleSet ? { trusted: true } : {}),
  };
}
