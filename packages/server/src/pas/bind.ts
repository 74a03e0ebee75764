/**
 * `POST /fhir/R4/Bot/{id}/$bind-pas`: makes a Bot of the caller's project (coded, or a deployed rule set) the one
 * that decides the project's prior authorization requests. One bot per project; binding another replaces it.
 */
import type { Bot } from '@medplum/fhirtypes';
import type { Caller } from '../auth/access-token.js';
import type { Repository } from '../fhir/repository.js';
import type { Services } from '../services.js';
import { requirePas } from './access.js';
import { setBinding } from './store.js';

export async function bindAdjudicationBot(
  services: Services,
  caller: Caller,
  repo: Repository,
  botId: string,
): Promise<{ bot: string; name?: string }> {
  requirePas('bind', caller, repo.access);
  // Read through the caller's view: another project's Bot is a 404 like a missing one.
  const bot = await repo.read<Bot>('Bot', botId);
  await setBinding(services.db, repo.access.projectId, bot.id as string);
  return { bot: `Bot/${bot.id}`, ...(bot.name ? { name: bot.name } : {}) };
}
