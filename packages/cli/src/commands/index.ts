/**
 * The command registry: one async function per command, keyed as on the command line. Each is imported when its
 * command runs, so `--help` and the light commands do not load esbuild, FHIRPath or the rule engine (`hookbot
 * --help` took ~0.2 s with every command imported up front).
 */
import type { CommandContext } from '../context.js';
import type { ClientCreateOptions } from './admin-client-create.js';
import type { ProjectCreateOptions } from './admin-project-create.js';
import type { BotBuildOptions } from './bot-build.js';
import type { BotCreateOptions } from './bot-create.js';
import type { BotDeployOptions } from './bot-deploy.js';
import type { BotExecuteOptions } from './bot-execute.js';
import type { BotLogsOptions } from './bot-logs.js';
import type { BotRollbackOptions } from './bot-rollback.js';
import type { BotVersionsOptions } from './bot-versions.js';
import type { HooksAuthOptions } from './hooks-client.js';
import type { HooksInvokeOptions } from './hooks-invoke.js';
import type { LoginOptions } from './login.js';
import type { PasBindOptions } from './pas-bind.js';
import type { PasSubmitOptions } from './pas-submit.js';
import type { RulesTestOptions } from './rules-test.js';
import type { RulesFileOptions } from './rules-validate.js';

export interface CommandOptions {
  login: LoginOptions;
  whoami: Record<string, never>;
  'admin project create': ProjectCreateOptions;
  'admin client create': ClientCreateOptions;
  'admin signing-key rotate': Record<string, never>;
  'admin secrets reseal': Record<string, never>;
  'bot create': BotCreateOptions;
  'bot build': BotBuildOptions;
  'bot deploy': BotDeployOptions;
  'bot list': Record<string, never>;
  'bot execute': BotExecuteOptions;
  'bot logs': BotLogsOptions;
  'bot versions': BotVersionsOptions;
  'bot rollback': BotRollbackOptions;
  'rules validate': RulesFileOptions;
  'rules test': RulesTestOptions;
  'rules deploy': RulesFileOptions;
  'hooks discover': HooksAuthOptions;
  'hooks invoke': HooksInvokeOptions;
  'feedback stats': Record<string, never>;
  'pas submit': PasSubmitOptions;
  'pas bind': PasBindOptions;
}

export type CommandName = keyof CommandOptions;

export type CommandTable = { [K in CommandName]: (input: CommandContext & CommandOptions[K]) => Promise<void> };

export const COMMANDS: { [K in CommandName]: () => Promise<CommandTable[K]> } = {
  login: async () => (await import('./login.js')).login,
  whoami: async () => (await import('./whoami.js')).whoami,
  'admin project create': async () => (await import('./admin-project-create.js')).adminProjectCreate,
  'admin client create': async () => (await import('./admin-client-create.js')).adminClientCreate,
  'admin signing-key rotate': async () => (await import('./admin-keys.js')).adminSigningKeyRotate,
  'admin secrets reseal': async () => (await import('./admin-keys.js')).adminSecretsReseal,
  'bot create': async () => (await import('./bot-create.js')).botCreate,
  'bot build': async () => (await import('./bot-build.js')).botBuild,
  'bot deploy': async () => (await import('./bot-deploy.js')).botDeploy,
  'bot list': async () => (await import('./bot-list.js')).botList,
  'bot execute': async () => (await import('./bot-execute.js')).botExecute,
  'bot logs': async () => (await import('./bot-logs.js')).botLogs,
  'bot versions': async () => (await import('./bot-versions.js')).botVersions,
  'bot rollback': async () => (await import('./bot-rollback.js')).botRollback,
  'rules validate': async () => (await import('./rules-validate.js')).rulesValidate,
  'rules test': async () => (await import('./rules-test.js')).rulesTest,
  'rules deploy': async () => (await import('./rules-deploy.js')).rulesDeploy,
  'hooks discover': async () => (await import('./hooks-discover.js')).hooksDiscover,
  'hooks invoke': async () => (await import('./hooks-invoke.js')).hooksInvoke,
  'feedback stats': async () => (await import('./feedback-stats.js')).feedbackStats,
  'pas submit': async () => (await import('./pas-submit.js')).pasSubmit,
  'pas bind': async () => (await import('./pas-bind.js')).pasBind,
};
