/**
 * Where a bot's code lives: a Binary referenced by `Bot.executableCode` (and the TypeScript source by
 * `Bot.sourceCode`). Loaded code is cached by Binary id; a Binary replaced or deleted in place (`PUT Binary/{id}`,
 * in any media type) is forgotten on every instance (`forgetCode`, through the bot cache).
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
const cache = new Map<string, LoadedCode>();

function binaryId(attachment: Attachment | undefined): string | undefined {
  const match = /^Binary\/([A-Za-z0-9\-.]{1,64})$/.exec(attachment?.url ?? '');
  return match?.[1];
}

async function ruleSetCode(text: string): Promise<string> {
  try {
    return await buildRuleBotCode(JSON.parse(text));
  } catch (err) {
    throw new HookbotError(
      'bot.rule-set-unbuildable',
      `The stored rule set cannot be built: ${err instanceof Error ? err.message : 'invalid'}`,
    );
  }
}

/** Drops the code loaded from a Binary that was replaced or deleted. */
export function forgetCode(projectId: string, binaryId: string): void {
  cache.delete(`${projectId}/${binaryId}`);
}

/** The bot's executable code; 422 when nothing is deployed. */
export async function loadBotCode(repo: Repository, bot: Bot): Promise<LoadedCode> {
  const id = binaryId(bot.executableCode);
  if (!id) {
    throw new HookbotError('bot.no-code', `Bot ${bot.id} has no deployed code: POST Bot/${bot.id}/$deploy first`);
  }
  const key = `${repo.access.projectId}/${id}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const binary = await repo.read<Binary>('Binary', id);
  const text = Buffer.from(binary.data ?? '', 'base64').toString('utf8');
  const isRuleSet = bot.executableCode?.contentType === RULES_CONTENT_TYPE;
  // The content hash makes the version unforgeable: a Binary id and version can be chosen by a client.
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const loaded: LoadedCode = {
    version: `${id}@${binary.meta?.versionId ?? '1'}#${hash}`,
    code: isRuleSet ? await ruleSetCode(text) : text,
    ...(bot.executableCode?.title ? { filename: bot.executableCode.title } : {}),
    ...(isRuleSet ? { trusted: true } : {}),
  };
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(key, loaded);
  return loaded;
}
