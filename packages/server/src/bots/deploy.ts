/**
 * `Bot/{id}/$deploy`: compiles the code once to check it (400 with the compiler's message and line when it does
 * not compile), stores it as a Binary, points `Bot.executableCode` at it (a new Bot version, so deploys can be
 * listed and rolled back) and tells every instance the bot changed. Calls in flight finish on the old code. A Bot
 * changed between the read and the update (another deploy, a PUT) answers 412: nothing is overwritten.
 */
import type { Bot } from '@medplum/fhirtypes';
import { createRepository, type Repository } from '../fhir/repository.js';
import { badRequest, HookbotError } from '../infra/errors.js';
import type { Services } from '../services.js';
import { JS_CONTENT_TYPE, RULES_CONTENT_TYPE, storeCodeBinary, TS_CONTENT_TYPE } from './code.js';

const MAX_CODE_BYTES = 5 * 1024 * 1024;

export interface DeployInput {
  code: string;
  filename?: string;
  sourceCode?: string;
}

export function checkDeployInput(body: unknown): DeployInput {
  const { code, filename, sourceCode } = (typeof body === 'object' && body !== null ? body : {}) as Record<
    string,
    unknown
  >;
  if (typeof code !== 'string' || code.trim() === '')
    throw badRequest('bot.invalid-request', '"code" (the bot\'s compiled JavaScript) is required', 'code');
  if (Buffer.byteLength(code) > MAX_CODE_BYTES)
    throw new HookbotError('bot.code-too-large', `Bot code exceeds ${MAX_CODE_BYTES} bytes`);
  if (filename !== undefined && (typeof filename !== 'string' || !/^[\w.\-/]{1,200}$/.test(filename))) {
    throw badRequest('bot.invalid-request', '"filename" must be a simple file name', 'filename');
  }
  if (sourceCode !== undefined && typeof sourceCode !== 'string')
    throw badRequest('bot.invalid-request', '"sourceCode" must be a string', 'sourceCode');
  return { code, ...(filename ? { filename } : {}), ...(sourceCode ? { sourceCode } : {}) };
}

export async function deployBot(services: Services, repo: Repository, botId: string, input: DeployInput): Promise<Bot> {
  const bot = await repo.read<Bot>('Bot', botId);
  const check = await services.runtime.check(input.code, input.filename);
  if (!check.ok) {
    const where = check.line ? ` (line ${check.line}${check.column ? `, column ${check.column}` : ''})` : '';
    throw badRequest(
      'bot.does-not-compile',
      `Bot code does not compile${where}: ${check.message ?? 'syntax error'}`,
      'code',
    );
  }
  // The Binary and the Bot update commit together or not at all.
  const updated = await services.db.transaction(async (tx) => {
    const txRepo = createRepository(tx, repo.access, { baseUrl: repo.fhirBase });
    const executableCode = await storeCodeBinary(txRepo, input.code, JS_CONTENT_TYPE, input.filename);
    const { sourceCode: oldSource, ...rest } = bot;
    // Uploaded code replaces a rule set entirely: its source would no longer describe what runs.
    const keptSource = oldSource?.contentType === RULES_CONTENT_TYPE ? undefined : oldSource;
    const sourceCode = input.sourceCode ? await storeCodeBinary(txRepo, input.sourceCode, TS_CONTENT_TYPE) : keptSource;
    // Versioned: an edit of the Bot made while the code compiled is not overwritten with what was read before it (412).
    return txRepo.update<Bot>(
      { ...rest, executableCode, ...(sourceCode ? { sourceCode } : {}) },
      { ifMatch: bot.meta?.versionId ?? '' },
    );
  });
  await services.bots.changed(repo.access.projectId, botId);
  return updated;
}
