/** Saving a Bot checks its `cdsService` (issue: a bad hook service is refused with the field named). */
import { validateCdsServiceConfig } from '@hookbot/bots';
import { registerResourceValidator } from '../fhir/validation.js';
import { locatedIssues, type Issue } from '../infra/errors.js';

let registered = false;

export function registerBotValidator(): void {
  if (registered) return;
  registered = true;
  registerResourceValidator('Bot', (bot): Issue[] =>
    bot.cdsService === undefined ? [] : locatedIssues(validateCdsServiceConfig(bot.cdsService)),
  );
}
