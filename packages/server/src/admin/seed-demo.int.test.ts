import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bot } from '@medplum/fhirtypes';
import { afterEach, expect, it } from 'vitest';
import { projectSystemAccess } from '../auth/access.js';
import { createRepository } from '../fhir/repository.js';
import { loadConfig } from '../infra/config.js';
import { createLogger } from '../infra/logger.js';
import { createServices } from '../server.js';
import type { Services } from '../services.js';
import { createTestPostgresDatabase, STORE_KINDS, type StoreKind } from '../testing/stores.js';
import { createProject } from './projects.js';
import { seedDemoProject } from './seed-demo.js';

const EXAMPLES = path.join(import.meta.dirname, '../../../../examples');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The services of a server on a fresh store, seeding from `examplesDir`. */
async function services(kind: StoreKind, examplesDir: string): Promise<Services> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hookbot-seed-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const database = kind === 'postgres' ? await createTestPostgresDatabase() : undefined;
  if (database) cleanups.push(() => database.drop());
  const config = loadConfig({
    HOOKBOT_DATA_DIR: dataDir,
    HOOKBOT_EXAMPLES_DIR: examplesDir,
    HOOKBOT_BOT_ISOLATION: 'in-process',
    ...(database ? { DATABASE_URL: database.url } : {}),
  });
  const created = await createServices(config, createLogger('silent'));
  cleanups.push(async () => {
    await created.runtime.close();
    await created.shared.close();
    await created.db.close();
  });
  return created;
}

/** The examples with one more service whose `cdsService` is invalid (a hook given as a number). */
async function examplesWithInvalidService(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hookbot-examples-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await cp(EXAMPLES, dir, { recursive: true });
  const bad = path.join(dir, 'services', 'zz-invalid-service');
  await mkdir(bad);
  await writeFile(
    path.join(bad, 'bot.json'),
    JSON.stringify({ resourceType: 'Bot', name: 'zz-invalid-service', cdsService: { hook: 42, title: 'Bad' } }),
  );
  await writeFile(path.join(bad, 'bot.js'), 'exports.handler = () => ({ cards: [] });\n');
  return dir;
}

for (const kind of STORE_KINDS) {
  it(`refuses a demo Bot whose cdsService is invalid, as the FHIR API would [${kind}]`, async () => {
    const s = await services(kind, await examplesWithInvalidService());
    const project = await createProject(s.db, 'demo');
    const report = await seedDemoProject(s, project.id);
    expect(report.failures).toEqual(['services/zz-invalid-service']);
    const bots = await createRepository(s.db, projectSystemAccess(project.id)).searchResources<Bot>('Bot', {
      name: 'zz-invalid-service',
    });
    expect(bots).toEqual([]);
  }, 120_000);
}
