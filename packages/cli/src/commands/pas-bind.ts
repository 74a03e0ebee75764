/**
 * `hookbot pas bind BOT`: the bot that decides the project's prior authorization requests. BOT is a Bot name, a
 * rule set id (as in the rule set's `id`) or `Bot/ID`.
 */
import type { HookbotApi } from '../api.js';
import { connect, type CommandContext } from '../context.js';
import { findBot, requireBot, resourcesOf, type BotResource, type Bundle } from './bots-api.js';

export interface PasBindOptions {
  name: string;
}

const RULE_SET_SYSTEM = 'https://hookbot.dev/fhir/rule-set';

async function botFor(api: HookbotApi, name: string): Promise<BotResource> {
  if (!name.startsWith('Bot/') && !(await findBot(api, name))) {
    const { body } = await api.request<Bundle<BotResource>>('GET', '/fhir/R4/Bot', {
      query: { identifier: `${RULE_SET_SYSTEM}|${name}` },
    });
    const ruleSet = resourcesOf(body)[0];
    if (ruleSet) return ruleSet;
  }
  return requireBot(api, name);
}

export async function pasBind(input: CommandContext & PasBindOptions): Promise<void> {
  const api = await connect(input);
  const bot = await botFor(api, input.name);
  const { body } = await input.out.step(`Binding ${input.name} to prior authorization`, () =>
    api.request<{ bot: string }>('POST', `/fhir/R4/Bot/${bot.id}/$bind-pas`, { json: {} }),
  );
  input.out.result(
    body,
    () => `${input.out.style.green('✓')} ${input.name} (${body.bot}) now decides prior authorization requests`,
  );
}
