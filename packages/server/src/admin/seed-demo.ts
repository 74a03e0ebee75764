/**
 * Fills a freshly created `demo` project with everything in `examples/`: member data (`members/*.json`, Bundles
 * whose resources keep their ids), coded CDS services (`services/<name>/bot.json` + `bot.js`) and analysts' rule
 * sets (`rules/*.json|yaml`; the prior-authorization one is bound to PAS). A broken example is logged and
 * skipped: it must not stop the server from starting.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Bot, Bundle, Resource } from '@medplum/fhirtypes';
import { parseRuleSetText, PRIOR_AUTHORIZATION } from '@hookbot/bots';
import { projectSystemAccess } from '../auth/access.js';
import { deployBot } from '../bots/deploy.js';
import { setBinding } from '../pas/store.js';
import { createRepository } from '../fhir/repository.js';
import type { Services } from '../services.js';
import { deployRuleSet } from '../rules/deploy-rule-set.js';

export interface SeedReport {
  members: number;
  services: string[];
  ruleSets: string[];
  failures: string[];
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/**
 * Seeds in one transaction (joining the caller's: bootstrap.ts commits the project and its examples together). Each
 * example runs in a savepoint, so a broken one is rolled back alone and the others stay.
 */
export function seedDemoProject(services: Services, projectId: string): Promise<SeedReport> {
  return services.db.transaction((tx) => seedExamples({ ...services, db: tx }, projectId));
}

async function seedExamples(services: Services, projectId: string): Promise<SeedReport> {
  const root = services.config.examplesDir;
  const repo = createRepository(services.db, projectSystemAccess(projectId), { baseUrl: services.config.baseUrl });
  const report: SeedReport = { members: 0, services: [], ruleSets: [], failures: [] };
  const attempt = async (what: string, fn: () => Promise<void>) => {
    await services.db.query('SAVEPOINT demo_example');
    try {
      await fn();
      await services.db.query('RELEASE SAVEPOINT demo_example');
    } catch (err) {
      await services.db.query('ROLLBACK TO SAVEPOINT demo_example');
      report.failures.push(what);
      services.log.warn(
        { example: what, err: err instanceof Error ? err.message : String(err) },
        'demo example skipped',
      );
    }
  };

  for (const file of (await list(path.join(root, 'members'))).filter((f) => f.endsWith('.json'))) {
    await attempt(`members/${file}`, async () => {
      const bundle = JSON.parse(await readFile(path.join(root, 'members', file), 'utf8')) as Bundle;
      const resources = (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
      for (const resource of resources) await repo.update<Resource>(resource);
      report.members += resources.length;
    });
  }

  for (const name of await list(path.join(root, 'services'))) {
    const dir = path.join(root, 'services', name);
    await attempt(`services/${name}`, async () => {
      const bot = JSON.parse(await readFile(path.join(dir, 'bot.json'), 'utf8')) as Bot;
      const code = await readFile(path.join(dir, 'bot.js'), 'utf8');
      const created = await repo.create<Bot>({ ...bot, resourceType: 'Bot' });
      await deployBot(services, repo, created.id as string, { code, filename: `${name}.js` });
      report.services.push(name);
    });
  }

  for (const file of (await list(path.join(root, 'rules'))).filter((f) => /\.(json|ya?ml)$/.test(f))) {
    await attempt(`rules/${file}`, async () => {
      const doc = await inlineRequestFiles(
        parseRuleSetText(await readFile(path.join(root, 'rules', file), 'utf8'), file),
        path.join(root, 'rules'),
      );
      const { bot } = await deployRuleSet(services, repo, { ruleSet: doc });
      // The prior-authorization example decides the demo project's PAS requests.
      if ((doc as { hook?: unknown }).hook === PRIOR_AUTHORIZATION)
        await setBinding(services.db, projectId, bot.id as string);
      report.ruleSets.push(file);
    });
  }
  return report;
}

/**
 * The test cases' `requestFile`s read into `request`, as `hookbot rules test --remote` sends them: the deployed rule
 * set carries its tests, so the console (and `Bot/$test-rules`, which reads no server file) can run them.
 */
async function inlineRequestFiles(doc: unknown, dir: string): Promise<unknown> {
  const tests = (doc as { tests?: unknown }).tests;
  if (!Array.isArray(tests)) return doc;
  const inlined = await Promise.all(
    tests.map(async (test: unknown) => {
      if (
        typeof test !== 'object' ||
        test === null ||
        typeof (test as { requestFile?: unknown }).requestFile !== 'string'
      )
        return test;
      const { requestFile, ...rest } = test as { requestFile: string };
      return { ...rest, request: JSON.parse(await readFile(path.resolve(dir, requestFile), 'utf8')) as unknown };
    }),
  );
  return { ...(doc as object), tests: inlined };
}
