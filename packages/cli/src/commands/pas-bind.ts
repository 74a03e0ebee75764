/**
 * `hookbot pas bind BOT`: the bot that decides the project's prior authorization requests. BOT is a Bot name, a
 * rule set id (as in the rule set's `id`), a Bot id or `Bot/ID`: whatever `requireBot` resolves.
 */
import { connect, type CommandContext } from '../context.js';
import { requireBot } from './bots-api.js';

export interface PasBindOptions {
  name: string;
}

export async function pasBind(input: CommandContext & PasBindOptions): Promise<void> {
  const api = await connect(input);
  const bot = await requireBot(api, input.name);
  const { body } = await input.out.step(`Binding ${input.name} to prior authorization`, () =>
    api.request<{ bot: string }>('POST', `/fhir/R4/Bot/${bot.id}/$bind-pas`, { json: {} }),
  );
  input.out.result(
    body,
    () => `${input.out.style.green('✓')} ${input.name} (${body.bot}) now decides prior authorization requests`,
  );
}
