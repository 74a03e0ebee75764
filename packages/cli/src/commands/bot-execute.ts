/**
 * `hookbot bot execute NAME --input FILE`: `POST /fhir/R4/Bot/{id}/$execute` with the file as the body (JSON
 * when it parses as JSON, text otherwise) and prints what the bot returned.
 */
import path from 'node:path';
import { connect, type CommandContext } from '../context.js';
import { CliError, readText } from '../errors.js';
import { requireBot } from './bots-api.js';

export interface BotExecuteOptions {
  name: string;
  input?: string;
}

export async function botExecute(input: CommandContext & BotExecuteOptions): Promise<void> {
  const body = input.input ? await readInput(path.resolve(input.cwd, input.input)) : { json: {} };
  const api = await connect(input);
  const bot = await requireBot(api, input.name);
  const res = await input.out.step(`Running ${input.name}`, () =>
    api.request<unknown>('POST', `/fhir/R4/Bot/${bot.id}/$execute`, body),
  );
  input.out.result(res.body, () => (typeof res.body === 'string' ? res.body : JSON.stringify(res.body, null, 2)));
}

export async function readInput(file: string): Promise<{ json: unknown } | { body: string; contentType: string }> {
  const text = await readText(file);
  try {
    return { json: JSON.parse(text) as unknown };
  } catch (error) {
    if (file.endsWith('.json')) {
      throw new CliError('usage', `${file} is not valid JSON: ${(error as Error).message}`, {}, { cause: error });
    }
    return { body: text, contentType: 'text/plain' };
  }
}
