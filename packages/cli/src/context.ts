/** What every command receives besides its own options: where it runs, its environment and its output. */
import { HookbotApi, type Fetch } from './api.js';
import { resolveProfile } from './config.js';
import type { Output } from './output.js';

export interface CommandContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  out: Output;
  /** `--profile NAME`. */
  profile?: string;
  fetch?: Fetch;
  /** Resolves when the user interrupts a long-running command (`bot logs --follow`). */
  interrupted?: Promise<void>;
}

export async function connect(ctx: CommandContext): Promise<HookbotApi> {
  const profile = await resolveProfile(ctx.env, ctx.profile);
  return new HookbotApi(profile, ctx.fetch);
}
