import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bot, Coverage, ExplanationOfBenefit, Organization, Patient } from '@medplum/fhirtypes';
import { afterEach, expect, it } from 'vitest';
import { projectSystemAccess } from '../auth/access.js';
import { patientAccess } from '../auth/patient-access.js';
import { parseScopes } from '../auth/scopes.js';
import { createRepository } from '../fhir/repository.js';
import { loadConfig } from '../infra/config.js';
import { createLogger } from '../infra/logger.js';
import { createServices } from '../server.js';
import type { Database, QueryOptions } from '../infra/database.js';
import type { Services } from '../services.js';
import { createTestPostgresDatabase, STORE_KINDS, type StoreKind } from '../testing/stores.js';
import { checkCredentials } from '../users/users.js';
import { DEMO_PROJECT_NAME, ensureDemoProject } from './bootstrap.js';
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

/**
 * The database as a process killed mid-seeding sees it: once the first demo Bot is stored (before its code is), every
 * statement fails, so nothing after it happens and the transaction is abandoned.
 */
function interruptedAfterFirstBot(db: Database): Database {
  let dead = false;
  const isBotInsert = (sql: string, params: unknown[] = []) =>
    sql.trimStart().startsWith('INSERT INTO fhir_resources') &&
    params.some((p) => typeof p === 'string' && p.includes('"resourceType":"Bot"'));
  const wrap = (inner: Database): Database => ({
    ...inner,
    query: async <R>(sql: string, params?: unknown[], options?: QueryOptions) => {
      if (dead) throw new Error('interrupted');
      const result = await inner.query<R>(sql, params, options);
      if (isBotInsert(sql, params)) dead = true;
      return result;
    },
    transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
  });
  return wrap(db);
}

/** Seed 001's four synthetic members, as its sandbox guide lists them: first, last, birth date, member id, postal code. */
const SEED_MEMBERS = [
  ['Mayte822', 'Venegas795', '2011-01-04', '01-testmemid', '02116'],
  ['Sherie778', 'Fahey393', '1974-04-29', '02-testmemid', '01810'],
  ['Delmar187', 'Tromp100', '1961-05-15', '03-testmemid', '02109'],
  ['George', 'Bluth', '1943-01-01', '04-testmemid', '15239'],
] as const;

/**
 * Each member is one Patient with an active Coverage (subscriberId = member id, payor an Organization) and a few
 * EOBs, which the member's own view (the Patient Access API's) finds with their Coverage and provider.
 */
async function expectSeedMembers(db: Database, projectId: string): Promise<void> {
  const repo = createRepository(db, projectSystemAccess(projectId));
  for (const [given, family, birthDate, memberId, postalCode] of SEED_MEMBERS) {
    const [patient, ...others] = await repo.searchResources<Patient>('Patient', {
      given,
      family,
      birthdate: birthDate,
    });
    expect(others).toEqual([]);
    expect(patient?.address?.[0]?.postalCode).toBe(postalCode);
    const coverages = await repo.searchResources<Coverage>('Coverage', {
      beneficiary: `Patient/${patient?.id}`,
      status: 'active',
    });
    expect(coverages.map((c) => c.subscriberId)).toEqual([memberId]);
    const payor = coverages[0]?.payor[0]?.reference ?? '';
    expect((await repo.read<Organization>('Organization', payor.split('/')[1] ?? '')).name).toBeTruthy();

    const member = createRepository(
      db,
      patientAccess({ projectId, patient: patient?.id as string, scopes: parseScopes('patient/*.rs') }),
    );
    const bundle = await member.search(
      'ExplanationOfBenefit',
      new URLSearchParams('_include=ExplanationOfBenefit:coverage&_include=ExplanationOfBenefit:provider'),
    );
    const entries = bundle.entry ?? [];
    const eobs = entries.filter((e) => e.search?.mode === 'match').map((e) => e.resource as ExplanationOfBenefit);
    expect(eobs.length).toBeGreaterThanOrEqual(2);
    for (const eob of eobs) {
      expect(eob.patient.reference).toBe(`Patient/${patient?.id}`);
      expect(eob.insurance?.[0]?.coverage.reference).toBe(`Coverage/${coverages[0]?.id}`);
      expect(eob.item?.[0]?.adjudication?.length).toBeGreaterThan(0);
      expect(eob.total?.length).toBeGreaterThan(0);
    }
    expect(
      entries
        .filter((e) => e.search?.mode === 'include')
        .map((e) => e.resource?.resourceType)
        .sort(),
    ).toEqual(['Coverage', 'Organization']);
  }
}

for (const kind of STORE_KINDS) {
  it(`leaves no demo project when seeding is interrupted, and the next start seeds it completely [${kind}]`, async () => {
    const s = await services(kind, EXAMPLES);
    await expect(ensureDemoProject({ ...s, db: interruptedAfterFirstBot(s.db) })).rejects.toThrow('interrupted');
    const demoRows = () => s.db.query('SELECT id FROM projects WHERE name = $1', [DEMO_PROJECT_NAME]);
    expect((await demoRows()).rows).toEqual([]);
    expect(
      (await s.db.query("SELECT count(*)::int AS n FROM fhir_resources WHERE resource_type IN ('Bot', 'Patient')"))
        .rows,
    ).toEqual([{ n: 0 }]);

    const demo = await ensureDemoProject(s);
    expect(demo.seeded?.failures).toEqual([]);
    const repo = createRepository(s.db, projectSystemAccess(demo.project.id));
    const bots = await repo.searchResources<Bot>('Bot', { _count: '100' });
    const serviceDirs = (await readdir(path.join(EXAMPLES, 'services'))).sort();
    const rules = (await readdir(path.join(EXAMPLES, 'rules'))).filter((f) => /\.(json|ya?ml)$/.test(f));
    expect(bots).toHaveLength(serviceDirs.length + rules.length);
    expect(bots.every((b) => b.executableCode?.url?.startsWith('Binary/'))).toBe(true);
    expect(demo.seeded?.services).toEqual(serviceDirs);
    expect((await repo.searchResources<Patient>('Patient', {})).length).toBeGreaterThan(0);
    await expectSeedMembers(s.db, demo.project.id);
    const credentials = JSON.parse(await readFile(path.join(s.config.dataDir, 'demo-credentials.json'), 'utf8')) as {
      projectId: string;
      users: { email: string; role: string; password: string }[];
    };
    expect(credentials.projectId).toBe(demo.project.id);
    // The console's demo users, with the passwords that sign them in.
    expect(credentials.users.map((u) => [u.email, u.role])).toEqual([
      ['analyst@demo.hookbot.local', 'analyst'],
      ['viewer@demo.hookbot.local', 'viewer'],
    ]);
    for (const user of credentials.users)
      expect((await checkCredentials(s.db, user.email, user.password))?.projectId).toBe(demo.project.id);

    const again = await ensureDemoProject(s);
    expect(again).toEqual({ project: demo.project });
    expect((await demoRows()).rows).toHaveLength(1);
  }, 180_000);
}
