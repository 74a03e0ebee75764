/** `hookbot bot list`: the project's Bots with their hook and current version. */
import { connect, type CommandContext } from '../context.js';
import { table } from '../table.js';
import { resourcesOf, type BotResource, type Bundle } from './bots-api.js';

export async function botList(input: CommandContext): Promise<void> {
  const api = await connect(input);
  const { body } = await input.out.step('Listing bots', () =>
    api.request<Bundle<BotResource>>('GET', '/fhir/R4/Bot', { query: { _count: 1000, _sort: 'name' } }),
  );
  const bots = resourcesOf(body);
  input.out.result(bots, () =>
    bots.length === 0
      ? 'No bots yet. Create one with hookbot bot create NAME.'
      : table(
          ['NAME', 'ID', 'HOOK', 'VERSION', 'UPDATED'],
          bots.map((bot) => [
            bot.name ?? '-',
            bot.id,
            bot.cdsService?.hook ?? '-',
            bot.meta?.versionId ?? '-',
            bot.meta?.lastUpdated ?? '-',
          ]),
          input.out.style,
        ),
  );
}
