/** `hookbot bot versions NAME`: the Bot's history (each `$deploy` and each update is a version). */
import { connect, type CommandContext } from '../context.js';
import { table } from '../table.js';
import { requireBot, resourcesOf, type BotResource, type Bundle } from './bots-api.js';

export interface BotVersionsOptions {
  name: string;
}

export interface BotVersion {
  version: string;
  lastUpdated?: string;
  code?: string;
  current: boolean;
}

export async function botVersions(input: CommandContext & BotVersionsOptions): Promise<void> {
  const api = await connect(input);
  const bot = await requireBot(api, input.name);
  const { body } = await input.out.step(`Reading the history of ${input.name}`, () =>
    api.request<Bundle<BotResource>>('GET', `/fhir/R4/Bot/${bot.id}/_history`),
  );
  const versions: BotVersion[] = resourcesOf(body).map((v) => {
    const code = (v.executableCode as { url?: string } | undefined)?.url;
    return {
      version: v.meta?.versionId ?? '?',
      ...(v.meta?.lastUpdated ? { lastUpdated: v.meta.lastUpdated } : {}),
      ...(code ? { code } : {}),
      current: v.meta?.versionId === bot.meta?.versionId,
    };
  });
  input.out.result({ bot: { id: bot.id, name: bot.name }, versions }, () =>
    table(
      ['VERSION', 'UPDATED', 'CODE', ''],
      versions.map((v) => [
        v.version,
        v.lastUpdated ?? '-',
        v.code ?? '-',
        v.current ? input.out.style.green('current') : '',
      ]),
      input.out.style,
    ),
  );
}
