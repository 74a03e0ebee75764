/**
 * `Bot/$deploy-rules`: validates an analyst's rule set (never deploying an invalid one), stores it as a Binary and
 * creates or updates the Bot that serves it (found by the identifier `RULE_SET_SYSTEM|<rule set id>`), with the
 * `cdsService` taken from the rule set. Every deploy is a new Bot version, listed by `_history` and restored by
 * `$rollback`. The Bot's code is built from the stored rule set when it is loaded (`bots/code.ts`), never uploaded.
 * One Bot per rule-set id and project (a unique index): a deploy racing another answers 409 or 412, never a duplicate.
 */
import type { Bot } from '@medplum/fhirtypes';
import { PRIOR_AUTHORIZATION, validateRuleSet, type BotCdsService, type RuleSetDocument } from '@hookbot/bots';
import { createRepository, type Repository } from '../fhir/repository.js';
import { invalidIssues, locatedIssues } from '../infra/errors.js';
import type { Services } from '../services.js';
import { RULES_CONTENT_TYPE, storeCodeBinary } from '../bots/code.js';
import { refuseCodedBots } from '../bots/rule-sets-only.js';

export const RULE_SET_SYSTEM = 'https://hookbot.dev/fhir/rule-set';

/** The rule set of a request body: `{"ruleSet": …}` or the document itself. */
export function ruleSetOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null && 'ruleSet' in body ? (body as { ruleSet: unknown }).ruleSet : body;
}

export function checkRuleSet(doc: unknown): RuleSetDocument {
  const validation = validateRuleSet(doc);
  if (!validation.valid) {
    throw invalidIssues(
      'rules.invalid-rule-set',
      locatedIssues(validation.errors.map((e) => ({ path: e.pointer || '/', message: e.message }))),
    );
  }
  return doc as RuleSetDocument;
}

function cdsServiceOf(doc: RuleSetDocument): BotCdsService {
  return {
    hook: doc.hook,
    title: doc.title,
    description: doc.description,
    ...(doc.usageRequirements ? { usageRequirements: doc.usageRequirements } : {}),
    ...(doc.prefetch?.length ? { prefetch: doc.prefetch } : {}),
    ...(doc.crd ? { crd: true } : {}),
  };
}

export interface DeployedRuleSet {
  bot: Bot;
  version: string;
  created: boolean;
}

/** With `ruleSetsOnly` (an analyst), an existing Bot of that rule-set id that runs code is not replaced (403). */
export async function deployRuleSet(
  services: Services,
  repo: Repository,
  body: unknown,
  ruleSetsOnly = false,
): Promise<DeployedRuleSet> {
  const ruleSet = ruleSetOf(body);
  const doc = checkRuleSet(ruleSet);
  const result = await services.db.transaction(async (tx) => {
    const txRepo = createRepository(tx, repo.access, { baseUrl: repo.fhirBase });
    const existing = (await txRepo.searchResources<Bot>('Bot', { identifier: `${RULE_SET_SYSTEM}|${doc.id}` }))[0];
    if (existing) refuseCodedBots(ruleSetsOnly, existing);
    const attachment = await storeCodeBinary(
      txRepo,
      JSON.stringify(ruleSet),
      RULES_CONTENT_TYPE,
      `${doc.id}.rules.json`,
    );
    const bot = {
      ...(existing ?? {}),
      resourceType: 'Bot',
      name: doc.title,
      description: doc.description,
      identifier: [{ system: RULE_SET_SYSTEM, value: doc.id }],
      // A prior-authorization rule set is bound to PAS (`Bot/{id}/$bind-pas`), never offered as a CDS service.
      ...(doc.hook === PRIOR_AUTHORIZATION ? {} : { cdsService: cdsServiceOf(doc) }),
      sourceCode: attachment,
      executableCode: attachment,
    } as Bot;
    // Versioned update (412 when the Bot changed since the search); a concurrent first deploy of the same id meets
    // the unique index on rule-set identifiers (409).
    const saved = existing
      ? await txRepo.update<Bot>(bot, { ifMatch: existing.meta?.versionId ?? '' })
      : await txRepo.create<Bot>(bot);
    return { bot: saved, version: saved.meta?.versionId ?? '1', created: !existing };
  });
  await services.bots.changed(repo.access.projectId, result.bot.id as string);
  return result;
}
