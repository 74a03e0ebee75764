/**
 * Who changed a Bot: a deploy, a rule-set deploy or a rollback made by a console user is recorded as an AuditEvent
 * (action `U`, subtype the operation, `agent.who` the user, the Bot and its new version), beside the version's own
 * `meta` author (`fhir/author.ts`). `AuditEvent?entity=Bot/{id}&subtype=…` reads who deployed what, and when.
 */
import type { Bot } from '@medplum/fhirtypes';
import type { Caller } from '../auth/access-token.js';
import { userReference } from '../auth/user-reference.js';
import type { Services } from '../services.js';

export type BotChange = 'deploy' | 'deploy-rules' | 'rollback';

export async function auditBotChange(
  services: Services,
  caller: Caller,
  change: BotChange,
  bot: Bot,
  started: number,
): Promise<void> {
  if (!caller.user) return;
  await services.audit.add({
    projectId: caller.user.projectId,
    subtype: change,
    action: 'U',
    botId: bot.id as string,
    botVersion: bot.meta?.versionId,
    clientId: caller.clientId,
    agent: userReference(caller.user),
    outcome: 'success',
    durationMs: performance.now() - started,
  });
}
