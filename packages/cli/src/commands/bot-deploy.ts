/**
 * `hookbot bot deploy NAME|GLOB...`: for each bot, build → create or update the Bot (name, description,
 * cdsService from hookbot.config.json) → `POST /fhir/R4/Bot/{id}/$deploy` with the bundle and its source.
 * Stops at the first failure, so CI sees which bot and which step broke.
 */
import path from 'node:path';
import type { HookbotApi } from '../api.js';
import { connect, type CommandContext } from '../context.js';
import { requireProject, selectBots, type BotEntry } from '../project.js';
import { bundleBot, formatBytes, readBuilt } from './bot-build.js';
import { findBot, type BotResource } from './bots-api.js';

export interface BotDeployOptions {
  patterns: string[];
}

export interface DeployedBot {
  name: string;
  id: string;
  created: boolean;
  version?: string;
  response: unknown;
}

export async function botDeploy(input: CommandContext & BotDeployOptions): Promise<void> {
  const { out } = input;
  const project = await requireProject(input.cwd);
  const bots = selectBots(project, input.patterns);
  const api = await connect(input);
  const deployed: DeployedBot[] = [];
  for (const entry of bots) {
    const built = await out.step(`Building ${entry.name}`, () => bundleBot(project, entry), {
      report: (b) => `Built ${entry.name}, ${formatBytes(b.bytes)}`,
    });
    const { bot, action } = await out.step(`Saving Bot ${entry.name}`, () => upsertBot(api, entry), {
      report: (r) => `${SAVED[r.action]} Bot/${r.bot.id} for ${entry.name}`,
    });
    const { code, sourceCode } = await readBuilt(built);
    const response = await out.step(
      `Deploying code to Bot/${bot.id}`,
      async () =>
        (
          await api.request<unknown>('POST', `/fhir/R4/Bot/${bot.id}/$deploy`, {
            json: { code, filename: path.basename(built.outfile), sourceCode },
          })
        ).body,
      { report: (r) => `Deployed ${entry.name}${versionOf(r) ? ` version ${versionOf(r)}` : ''}` },
    );
    const version = versionOf(response);
    deployed.push({
      name: entry.name,
      id: bot.id,
      created: action === 'created',
      ...(version ? { version } : {}),
      response,
    });
  }
  out.result({ deployed }, () =>
    deployed.map((d) => `${out.style.green('✓')} ${d.name} is live as Bot/${d.id}`).join('\n'),
  );
}

const SAVED = { created: 'Created', updated: 'Updated', unchanged: 'Found' } as const;

async function upsertBot(api: HookbotApi, entry: BotEntry): Promise<{ bot: BotResource; action: keyof typeof SAVED }> {
  const existing = await findBot(api, entry.name);
  const fields = {
    name: entry.name,
    ...(entry.description ? { description: entry.description } : {}),
    ...(entry.cdsService ? { cdsService: entry.cdsService } : {}),
  };
  if (!existing) {
    const { body } = await api.request<BotResource>('POST', '/fhir/R4/Bot', {
      json: { resourceType: 'Bot', ...fields },
    });
    return { bot: body, action: 'created' };
  }
  const next: BotResource = { ...existing, ...fields };
  if (!entry.cdsService) delete next.cdsService;
  const same = (a: BotResource) => JSON.stringify([a.name, a.description, a.cdsService]);
  if (same(next) === same(existing)) return { bot: existing, action: 'unchanged' };
  const { body } = await api.request<BotResource>('PUT', `/fhir/R4/Bot/${existing.id}`, { json: next });
  return { bot: body, action: 'updated' };
}

/** The `$deploy` answer is loosely specified: `{version}`, `{bot: {meta.versionId}}` or the Bot itself. */
export function versionOf(response: unknown): string | undefined {
  const value = response as
    | { version?: unknown; versionId?: unknown; bot?: { meta?: { versionId?: string } }; meta?: { versionId?: string } }
    | undefined;
  if (!value || typeof value !== 'object') return undefined;
  if (typeof value.version === 'string' || typeof value.version === 'number') return String(value.version);
  if (value.version && typeof value.version === 'object') {
    const v = value.version as { versionId?: unknown; id?: unknown };
    if (typeof v.versionId === 'string') return v.versionId;
  }
  return value.bot?.meta?.versionId ?? value.meta?.versionId;
}
