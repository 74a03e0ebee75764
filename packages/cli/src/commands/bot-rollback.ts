/**
 * `hookbot bot rollback NAME --to VERSION`: `POST /fhir/R4/Bot/{id}/$rollback {version}`. The server restores the
 * whole version (code, name, `cdsService`), so the command first reads that version and says what changes.
 */
import { connect, type CommandContext } from '../context.js';
import { versionOf } from './bot-deploy.js';
import { requireBot, type BotResource } from './bots-api.js';

export interface BotRollbackOptions {
  name: string;
  to: string;
}

export async function botRollback(input: CommandContext & BotRollbackOptions): Promise<void> {
  const api = await connect(input);
  const bot = await requireBot(api, input.name);
  const { body: target } = await api.request<BotResource>(
    'GET',
    `/fhir/R4/Bot/${bot.id}/_history/${encodeURIComponent(input.to)}`,
  );
  const restores = describeRollback(bot, target);
  const { body } = await input.out.step(`Rolling ${input.name} back to version ${input.to}`, () =>
    api.request<unknown>('POST', `/fhir/R4/Bot/${bot.id}/$rollback`, { json: { version: input.to } }),
  );
  const now = versionOf(body);
  input.out.result({ ...(body as object), restores }, () =>
    [
      `${input.out.style.green('✓')} ${input.name} is back to version ${input.to}${now ? ` (new version ${now})` : ''}`,
      ...restores.map((line) => `  ${line}`),
    ].join('\n'),
  );
}

/** One line per part of the Bot the rollback changes or keeps, so nothing changes unannounced. */
export function describeRollback(current: BotResource, target: BotResource): string[] {
  const code = (b: BotResource) => JSON.stringify([b.executableCode ?? null, b.sourceCode ?? null]);
  const hook = (b: BotResource) => b.cdsService?.hook ?? 'none (a plain bot)';
  const service = (b: BotResource) => JSON.stringify(b.cdsService ?? null);
  const lines = [
    !target.executableCode
      ? 'code: that version has no code; the bot will not run until you deploy again'
      : code(current) === code(target)
        ? 'code: unchanged (the same as now)'
        : `code: version ${target.meta?.versionId ?? '?'}'s`,
  ];
  if (hook(current) !== hook(target)) lines.push(`hook: ${hook(current)} → ${hook(target)}`);
  else if (service(current) !== service(target)) lines.push('cdsService: title, description or prefetch restored');
  else lines.push(`hook: ${hook(current)} (unchanged)`);
  if (current.name !== target.name) lines.push(`name: ${current.name ?? '-'} → ${target.name ?? '-'}`);
  return lines;
}
