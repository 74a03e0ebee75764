/** The command registry: one async function per command, keyed as on the command line. */
import type { CommandContext } from '../context.js';
import { adminProjectCreate, type ProjectCreateOptions } from './admin-project-create.js';
import { botBuild, type BotBuildOptions } from './bot-build.js';
import { botCreate, type BotCreateOptions } from './bot-create.js';
import { botDeploy, type BotDeployOptions } from './bot-deploy.js';
import { botExecute, type BotExecuteOptions } from './bot-execute.js';
import { botList } from './bot-list.js';
import { botLogs, type BotLogsOptions } from './bot-logs.js';
import { botRollback, type BotRollbackOptions } from './bot-rollback.js';
import { botVersions, type BotVersionsOptions } from './bot-versions.js';
import { feedbackStats } from './feedback-stats.js';
import type { HooksAuthOptions } from './hooks-client.js';
import { hooksDiscover } from './hooks-discover.js';
import { hooksInvoke, type HooksInvokeOptions } from './hooks-invoke.js';
import { login, type LoginOptions } from './login.js';
import { rulesDeploy } from './rules-deploy.js';
import { rulesTest, type RulesTestOptions } from './rules-test.js';
import { rulesValidate, type RulesFileOptions } from './rules-validate.js';
import { whoami } from './whoami.js';

export interface CommandOptions {
  login: LoginOptions;
  whoami: Record<string, never>;
  'admin project create': ProjectCreateOptions;
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
}

export type CommandName = keyof CommandOptions;

export type CommandTable = { [K in CommandName]: (input: CommandContext & CommandOptions[K]) => Promise<void> };

export const COMMANDS: CommandTable = {
  login,
  whoami,
  'admin project create': adminProjectCreate,
  'bot create': botCreate,
  'bot build': botBuild,
  'bot deploy': botDeploy,
  'bot list': botList,
  'bot execute': botExecute,
  'bot logs': botLogs,
  'bot versions': botVersions,
  'bot rollback': botRollback,
  'rules validate': rulesValidate,
  'rules test': rulesTest,
  'rules deploy': rulesDeploy,
  'hooks discover': hooksDiscover,
  'hooks invoke': hooksInvoke,
  'feedback stats': feedbackStats,
};
