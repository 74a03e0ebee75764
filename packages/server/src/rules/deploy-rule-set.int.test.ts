import { readFileSync } from 'node:fs';
import type { Bot } from '@medplum/fhirtypes';
import { expect, it } from 'vitest';
import type { Database } from '../infra/database.js';
import { createRepository } from '../fhir/repository.js';
import { testAccess } from '../testing/fixtures.js';
import { fakeServices } from '../testing/services.js';
import { withStores } from '../testing/stores.js';
import { deployRuleSet, RULE_SET_SYSTEM } from './deploy-rule-set.js';

const example = JSON.parse(
  readFileSync(new URL('../../../../examples/rules/not-covered-alternative.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const ruleSet = (id: string, title = 'Race') => ({ ...example, id, title });

/**
 * Each transaction waits after its first statement (the search for the rule set's Bot) until `parties` transactions
 * got there: every deploy has looked before any writes, the interleaving that made duplicates. PostgreSQL only:
 * PGlite runs one transaction at a time, so there the deploys are serialised and cannot interleave.
 */
function afterFirstRead(db: Database, parties: number): Database {
  let arrived = 0;
  let release: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (release = resolve));
  return {
    ...db,
    transaction: (fn) =>
      db.transaction((tx) => {
        let first = true;
        return fn({
          ...tx,
          query: async (sql, params, options) => {
            const result = await tx.query(sql, params, options);
            if (first) {
              first = false;
              if (++arrived === parties) release();
              await all;
            }
            return result;
          },
        } as Database);
      }),
  };
}

withStores('rule-set deploy by id', (getDb, kind) => {
  const deployTwiceAtOnce = async (projectId: string, id: string) => {
    const db = kind === 'postgres' ? afterFirstRead(getDb(), 2) : getDb();
    const repo = createRepository(db, testAccess(projectId));
    return Promise.allSettled([
      deployRuleSet(fakeServices(db), repo, ruleSet(id, 'First')),
      deployRuleSet(fakeServices(db), repo, ruleSet(id, 'Second')),
    ]);
  };
  const botsOf = (projectId: string, id: string) =>
    createRepository(getDb(), testAccess(projectId)).searchResources<Bot>('Bot', {
      identifier: `${RULE_SET_SYSTEM}|${id}`,
    });
  const statuses = (results: PromiseSettledResult<unknown>[]) =>
    results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { status?: number }).status));

  it('creates one Bot when two first deploys of the same rule set race (the loser answers 409)', async () => {
    const access = testAccess();
    const results = await deployTwiceAtOnce(access.projectId, 'race-new');
    expect(await botsOf(access.projectId, 'race-new')).toHaveLength(1);
    expect(statuses(results).sort()).toEqual(kind === 'postgres' ? [409, 'ok'] : ['ok', 'ok']);
  });

  it('never overwrites a concurrent deploy of an existing rule set with what it read before (412)', async () => {
    const access = testAccess();
    await deployRuleSet(
      fakeServices(getDb()),
      createRepository(getDb(), testAccess(access.projectId)),
      ruleSet('race-old'),
    );
    const results = await deployTwiceAtOnce(access.projectId, 'race-old');
    const [bot] = await botsOf(access.projectId, 'race-old');
    expect(statuses(results).sort()).toEqual(kind === 'postgres' ? [412, 'ok'] : ['ok', 'ok']);
    expect(bot?.meta?.versionId).toBe(kind === 'postgres' ? '2' : '3');
  });

  it('refuses a second Bot taking a rule-set id the project already serves (409)', async () => {
    const access = testAccess();
    const repo = createRepository(getDb(), access);
    await deployRuleSet(fakeServices(getDb()), repo, ruleSet('taken'));
    const squatter = { resourceType: 'Bot', name: 'x', identifier: [{ system: RULE_SET_SYSTEM, value: 'taken' }] };
    await expect(repo.create(squatter as Bot)).rejects.toMatchObject({ status: 409 });
    const elsewhere = createRepository(getDb(), testAccess());
    expect((await elsewhere.create(squatter as Bot)).id).toBeDefined();
  });
});
