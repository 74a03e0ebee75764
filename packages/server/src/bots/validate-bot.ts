/** Saving a Bot checks its `cdsService` (issue: a bad hook service is refused with the field named). */
import { validateCdsServiceConfig } from '@hookbot/bots';
import { registerResourceValidator } from '../fhir/validation.js';
import type { Issue } from '../infra/errors.js';

let registered = false;

export function registerBotValidator(): void {
  if (registered) return;
  registered = true;
  registerResourceValidator('Bot', (bot): Issue[] =>
    bot.cdsService === undefined
      ? []
      : validateCdsServiceConfig(bot.cdsService).map((i) => ({
          severity: 'error',
          code: 'invalid',
          diagnostics: `${i.path}: ${i.message}`,
          expression: [i.path],
        })),
  );
}
