/** `hookbot bot rollback NAME --to VERSION`: `POST /fhir/R4/Bot/{id}/$rollback {version}`. */
import { connect, type CommandContext } from '../context.js';
import { versionOf } from './bot-deploy.js';
import { requireBot } from './bots-api.js';

export interface BotRollbackOptions {
  name: string;
  to: string;
}

export async function botRollback(input: CommandContext & BotRollbackOptions): Promise<void> {
  const api = await connect(input);
  const bot = await requireBot(api, input.name);
  const { body } = await input.out.step(`Rolling ${input.name} back to version ${input.to}`, () =>
    api.request<unknown>('POST', `/fhir/R4/Bot/${bot.id}/$rollback`, { json: { version: input.to } }),
  );
  const now = versionOf(body);
  input.out.result(
    body,
    () =>
      `${input.out.style.green('✓')} ${input.name} now runs the code of version ${input.to}${now ? ` (new version ${now})` : ''}`,
  );
}
