/**
 * Bot lookups shared by the bot commands. A bot is named on the command line by its `name`, its id (`Bot/ID` or
 * the bare id `rules deploy` prints) or, for a rule set, the rule set's `id` (the Bot's identifier). A name two
 * Bots share is refused with both, never guessed.
 */
import { CliError, usageError } from '../errors.js';
import type { HookbotApi } from '../api.js';

export interface BotResource {
  resourceType: 'Bot';
  id: string;
  name?: string;
  description?: string;
  identifier?: { system?: string; value?: string }[];
  meta?: { versionId?: string; lastUpdated?: string };
  cdsService?: { hook: string; title?: string; description?: string };
  [key: string]: unknown;
}

export interface Bundle<T> {
  resourceType: 'Bundle';
  total?: number;
  entry?: { resource?: T }[];
}

/** The identifier system of the Bot that serves a rule set (its value is the rule set's `id`). */
export const RULE_SET_SYSTEM = 'https://hookbot.dev/fhir/rule-set';

export const resourcesOf = <T>(bundle: Bundle<T> | undefined): T[] =>
  (bundle?.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));

/** Every Bot named exactly `name` (FHIR `name` search matches prefixes, so the results are filtered). */
export async function findBotsNamed(api: HookbotApi, name: string): Promise<BotResource[]> {
  const { body } = await api.request<Bundle<BotResource>>('GET', '/fhir/R4/Bot', { query: { name, _count: 100 } });
  return resourcesOf(body).filter((bot) => bot.name === name);
}

/** The one Bot named `name`, undefined when none is; several are an error that lists them. */
export async function findBot(api: HookbotApi, name: string): Promise<BotResource | undefined> {
  const bots = await findBotsNamed(api, name);
  if (bots.length > 1) throw ambiguous(name, bots);
  return bots[0];
}

export function ambiguous(name: string, bots: BotResource[]): CliError {
  return usageError(`${bots.length} Bots are named "${name}"; name one by id (Bot/ID)`, [
    ...bots.map(describeBot),
    'Rename or delete the one you do not want, or use Bot/ID.',
  ]);
}

export const describeBot = (bot: BotResource): string =>
  [
    `Bot/${bot.id}`,
    bot.cdsService ? `hook ${bot.cdsService.hook}` : 'no hook',
    bot.meta?.lastUpdated ? `updated ${bot.meta.lastUpdated}` : undefined,
  ]
    .filter(Boolean)
    .join('  ');

/** NAME, `Bot/ID`, a bare Bot id, or a rule set's id. Unknown is a usage error (exit 2). */
export async function requireBot(api: HookbotApi, nameOrRef: string): Promise<BotResource> {
  if (nameOrRef.startsWith('Bot/')) {
    return (await api.request<BotResource>('GET', `/fhir/R4/${nameOrRef}`)).body;
  }
  const named = await findBot(api, nameOrRef);
  if (named) return named;
  const { body } = await api.request<Bundle<BotResource>>('GET', '/fhir/R4/Bot', {
    query: { identifier: `${RULE_SET_SYSTEM}|${nameOrRef}` },
  });
  const ruleSets = resourcesOf(body);
  if (ruleSets.length > 1) throw ambiguous(nameOrRef, ruleSets);
  if (ruleSets[0]) return ruleSets[0];
  const byId = await readBot(api, nameOrRef);
  if (byId) return byId;
  throw usageError(`No Bot named "${nameOrRef}" in this project`, [
    'A bot is named by its name, its id, or the id of the rule set it serves.',
    'List them with hookbot bot list, or deploy it with hookbot bot deploy.',
  ]);
}

async function readBot(api: HookbotApi, id: string): Promise<BotResource | undefined> {
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) return undefined;
  try {
    return (await api.request<BotResource>('GET', `/fhir/R4/Bot/${id}`)).body;
  } catch (error) {
    if (error instanceof CliError && (error.details.status === 404 || error.details.status === 400)) return undefined;
    throw error;
  }
}
