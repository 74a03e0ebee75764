/**
 * `Bot/{id}/$rollback`: makes an earlier Bot version current again (its code, and its `cdsService`), as a new
 * version, so the history keeps every step.
 */
import type { Bot } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.js';
import { badRequest } from '../infra/errors.js';
import { refuseCodedBots } from './rule-sets-only.js';

/** `repo` is the request's repository, which announces the Bot change to every cache (see bot-cache.ts). */
/** With `ruleSetsOnly` (an analyst), the Bot must be a rule set now and in the version restored. */
export async function rollbackBot(repo: Repository, botId: string, body: unknown, ruleSetsOnly = false): Promise<Bot> {
  const current = await repo.read<Bot>('Bot', botId);
  // Whether the caller may touch this Bot at all, before what it asks.
  refuseCodedBots(ruleSetsOnly, current);
  const version = typeof body === 'object' && body !== null ? (body as { version?: unknown }).version : undefined;
  if ((typeof version !== 'string' && typeof version !== 'number') || String(version) === '') {
    throw badRequest('bot.invalid-request', '"version" (a Bot versionId from its _history) is required', 'version');
  }
  const target = await repo.vread<Bot>('Bot', botId, String(version));
  refuseCodedBots(ruleSetsOnly, target);
  const { meta: _meta, ...content } = target;
  // Versioned: a Bot changed since it was read (a deploy, a PUT) answers 412 instead of being silently replaced.
  return repo.update<Bot>({ ...content, id: botId } as Bot, { ifMatch: current.meta?.versionId ?? '' });
}
