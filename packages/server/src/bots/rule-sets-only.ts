/**
 * Analysts edit, test, deploy and roll back rule sets, never coded bots: the routes they may call are listed in
 * `auth/user-roles.ts`, and the operations that take any Bot (`$execute`, `$rollback`, `$deploy-rules` over an
 * existing Bot) refuse them a coded one here, below the route.
 */
import type { Bot } from '@medplum/fhirtypes';
import type { Caller } from '../auth/access-token.js';
import { RULE_SET_ONLY_ROLES } from '../auth/user-roles.js';
import { forbidden } from '../infra/errors.js';
import { RULES_CONTENT_TYPE } from './code.js';

/** Is the caller limited to rule-set Bots? */
export const ruleSetsOnly = (caller: Caller | undefined): boolean =>
  caller?.user !== undefined && RULE_SET_ONLY_ROLES.includes(caller.user.role);

/** A Bot that runs uploaded code (JavaScript or TypeScript), not a rule set. A Bot without code is neither. */
export const isCodedBot = (bot: Bot): boolean =>
  bot.executableCode !== undefined && bot.executableCode.contentType !== RULES_CONTENT_TYPE;

/** 403 when `limited` and any of `bots` (versions of one Bot) is a coded one. */
export function refuseCodedBots(limited: boolean, ...bots: Bot[]): void {
  if (limited && bots.some(isCodedBot))
    throw forbidden('bot.rule-sets-only', 'An analyst may work on rule-set Bots only, not on coded ones');
}
