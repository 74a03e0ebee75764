/** Bot lookups shared by the bot commands: NAME → Bot id through `GET /fhir/R4/Bot?name=`. */
import type { HookbotApi } from '../api.js';
import { CliError } from '../errors.js';

export interface BotResource {
  resourceType: 'Bot';
  id: string;
  name?: string;
  description?: string;
  meta?: { versionId?: string; lastUpdated?: string };
  cdsService?: { hook: string; title?: string; description?: string };
  [key: string]: unknown;
}

export interface Bundle<T> {
  resourceType: 'Bundle';
  total?: number;
  entry?: { resource?: T }[];
}

export const resourcesOf = <T>(bundle: Bundle<T> | undefined): T[] =>
  (bundle?.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));

/** FHIR `name` search matches prefixes, so the exact name is picked from the results. */
export async function findBot(api: HookbotApi, name: string): Promise<BotResource | undefined> {
  const { body } = await api.request<Bundle<BotResource>>('GET', '/fhir/R4/Bot', { query: { name } });
  return resourcesOf(body).find((bot) => bot.name === name);
}

/** NAME, or `Bot/ID` to skip the lookup. */
export async function requireBot(api: HookbotApi, nameOrRef: string): Promise<BotResource> {
  if (nameOrRef.startsWith('Bot/')) {
    return (await api.request<BotResource>('GET', `/fhir/R4/${nameOrRef}`)).body;
  }
  const bot = await findBot(api, nameOrRef);
  if (!bot) {
    throw new CliError('failed', `No Bot named "${nameOrRef}" in this project`, {
      lines: ['List them with hookbot bot list, or deploy it with hookbot bot deploy.'],
    });
  }
  return bot;
}
