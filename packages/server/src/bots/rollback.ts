/**
 * `Bot/{id}/$rollback`: makes an earlier Bot version current again (its code, and its `cdsService`), as a new
 * version, so the history keeps every step.
 */
import type { Bot } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.js';
import { badRequest } from '../infra/errors.js';

/** `repo` is the request's repository, which announces the Bot change to every cache (see bot-cache.ts). */
export async function rollbackBot(repo: Repository, botId: string, body: unknown): Promise<Bot> {
  const version = typeof body === 'object' && body !== null ? (body as { version?: unknown }).version : undefined;
  if ((typeof version !== 'string' && typeof version !== 'number') || String(version) === '') {
    throw badRequest('bot.invalid-request', '"version" (a Bot versionId from its _history) is required', 'version');
  }
  const current = await repo.read<Bot>('Bot', botId);
  const target = await repo.vread<Bot>('Bot', botId, String(version));
  const { meta: _meta, ...content } = target;
  // Versioned: a Bot changed since it was read (a deploy, a PUT) answers 412 instead of being silently replaced.
  return repo.update<Bot>({ ...content, id: botId } as Bot, { ifMatch: current.meta?.versionId ?? '' });
}
