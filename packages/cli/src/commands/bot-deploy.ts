/**
 * `hookbot bot deploy NAME|GLOB...`: for each bot, type-check (TypeScript) → build → create or update the Bot
 * (name, description, cdsService from hookbot.config.json) → `POST /fhir/R4/Bot/{id}/$deploy` with the bundle and
 * its source. Stops at the first failure, so CI sees which bot and which step broke. A Bot of the same name that
 * answers another hook, or serves a rule set, is someone else's: it is left alone unless `--force`.
 */
import path from 'node:path';
import type { HookbotApi } from '../api.js';
import { connect, type CommandContext } from '../context.js';
import { requireProject, selectBots, type BotEntry } from '../project.js';
import { bundleBot, formatBytes, readBuilt } from './bot-build.js';
import { findBot, RULE_SET_SYSTEM, type BotResource } from './bots-api.js';
import { typecheckBot } from './bot-typecheck.js';
import { CliError } from '../errors.js';

export interface BotDeployOptions {
  patterns: string[];
  /** Change a Bot of the same name even when it answers another hook or serves a rule set. */
  force?: boolean;
  /** `--no-typecheck` sets false. */
  typecheck?: boolean;
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
    if (input.typecheck !== false) {
      await out.step(`Type-checking ${entry.name}`, () => typecheckBot(project.root, entry.name, entry.source), {
        report: () => `Type-checked ${entry.name}`,
      });
    }
    const built = await out.step(`Building ${entry.name}`, () => bundleBot(project, entry), {
      report: (b) => `Built ${entry.name}, ${formatBytes(b.bytes)}`,
    });
    const { bot, action } = await out.step(
      `Saving Bot ${entry.name}`,
      () => upsertBot(api, entry, input.force === true),
      {
        report: (r) => `${SAVED[r.action]} Bot/${r.bot.id} for ${entry.name}`,
      },
    );
    const { code, sourceCode } = await readBuilt(built);
    const response = await out.step(
      `Deploying code to Bot/${bot.id}`,
      async () => {
        const res = await api.request<unknown>('POST', `/fhir/R4/Bot/${bot.id}/$deploy`, {
          json: { code, filename: path.basename(built.outfile), sourceCode },
        });
        // The answer is an OperationOutcome; the Bot's new version is its ETag.
        const tagged = /^W\/"(.+)"$/.exec(res.etag ?? '')?.[1];
        return tagged ? { version: tagged } : res.body;
      },
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

async function upsertBot(
  api: HookbotApi,
  entry: BotEntry,
  force: boolean,
): Promise<{ bot: BotResource; action: keyof typeof SAVED }> {
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
  const conflict = force ? undefined : takeoverConflict(existing, entry);
  if (conflict) {
    throw new CliError('failed', `Not deploying ${entry.name}: Bot/${existing.id} of that name ${conflict}`, {
      lines: [
        'It looks like another Bot that shares the name; deploying would change it.',
        'Rename the bot in hookbot.config.json, or deploy with --force to change that Bot.',
      ],
    });
  }
  const next: BotResource = { ...existing, ...fields };
  if (!entry.cdsService) delete next.cdsService;
  const same = (a: BotResource) => JSON.stringify([a.name, a.description, a.cdsService]);
  if (same(next) === same(existing)) return { bot: existing, action: 'unchanged' };
  const { body } = await api.request<BotResource>('PUT', `/fhir/R4/Bot/${existing.id}`, { json: next });
  return { bot: body, action: 'updated' };
}

/** Why deploying `entry` over `existing` would change what another Bot does, or undefined. */
export function takeoverConflict(existing: BotResource, entry: BotEntry): string | undefined {
  const ruleSet = existing.identifier?.find((i) => i.system === RULE_SET_SYSTEM)?.value;
  if (ruleSet) return `serves the rule set "${ruleSet}"`;
  const had = existing.cdsService?.hook;
  const wants = entry.cdsService?.hook;
  if (had === wants) return undefined;
  if (!had) return `is a plain bot, and hookbot.config.json gives it the hook ${wants}`;
  if (!wants) return `answers ${had}, and hookbot.config.json gives it no hook`;
  return `answers ${had}, and hookbot.config.json says ${wants}`;
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
