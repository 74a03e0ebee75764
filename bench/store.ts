/**
 * Repository-level throughput of the FHIR store on PGlite and PostgreSQL: seeds 1,000 Patients, Coverages and
 * Bots into a fresh store, then measures reads/s and searches/s, one at a time and 8 in flight, and loads 10,000
 * resources by transaction Bundles of 1,000 (a Patient and a Coverage referring to it by `urn:uuid:` each).
 * Run: `npm run bench -- store` (or `node --conditions=hookbot-source --import tsx bench/store.ts`).
 * PostgreSQL is `HOOKBOT_TEST_PG_URL` (default postgres://postgres@127.0.0.1:5432/postgres); a scratch database
 * is created and dropped.
 */
import { pathToFileURL } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';
import {
  bot,
  coverage,
  createRepository,
  openTestStore,
  patient,
  runBundle,
  testAccess,
} from '@hookbot/server/testing';
import { runMigrations, STORE_KINDS, type Repository, type StoreKind } from '@hookbot/server/testing';

const SEED = 1_000;
const DURATION_MS = 2_000;
const HOOKS = ['order-sign', 'order-select', 'appointment-book', 'encounter-start'];

export interface StoreBenchResult {
  store: StoreKind;
  writesPerSec: number;
  readsPerSec: number;
  readsPerSecConcurrent: number;
  searchesPerSec: number;
  searchesPerSecConcurrent: number;
  /** Resources per second written by transaction Bundles of 1,000 entries. */
  transactionLoadPerSec: number;
}

export async function benchStore(): Promise<StoreBenchResult[]> {
  const results: StoreBenchResult[] = [];
  for (const kind of STORE_KINDS) {
    results.push(await benchOne(kind));
  }
  console.table(results);
  return results;
}

async function benchOne(kind: StoreKind): Promise<StoreBenchResult> {
  const store = await openTestStore(kind);
  try {
    await runMigrations(store.db);
    const repo = createRepository(store.db, testAccess());
    const started = performance.now();
    const patients: Resource[] = [];
    for (let i = 0; i < SEED; i++) {
      const p = await repo.create(
        patient({
          name: [{ family: `Family${i % 100}`, given: [`Given${i}`] }],
          gender: i % 2 ? 'male' : 'female',
          birthDate: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`,
          identifier: [{ system: 'urn:member', value: `M-${i}` }],
        }),
      );
      patients.push(p);
      await repo.create(coverage(p.id ?? '', { subscriberId: `S-${i}` }));
      await repo.create(bot(`bot-${i}`, i % 3 === 0 ? undefined : HOOKS[i % HOOKS.length]));
    }
    const writesPerSec = (3 * SEED) / ((performance.now() - started) / 1000);
    const id = (i: number) => patients[i % patients.length]?.id ?? '';
    const read = (i: number) => repo.read('Patient', id(i * 7919));
    const searches = [
      (i: number) => repo.search('Patient', { family: `Family${i % 100}`, _count: '20' }),
      (i: number) => repo.search('Coverage', { beneficiary: `Patient/${id(i)}` }),
      (i: number) => repo.search('Bot', { 'cds-hook': HOOKS[i % HOOKS.length] ?? '', _count: '20' }),
      (i: number) => repo.search('Patient', { identifier: `urn:member|M-${i % SEED}` }),
      (i: number) => repo.search('Coverage', { beneficiary: `Patient/${id(i)}`, _include: 'Coverage:beneficiary' }),
    ];
    const search = (i: number) => (searches[i % searches.length] as (n: number) => Promise<unknown>)(i);
    await rate(read, 1, 300); // warm-up
    await rate(search, 1, 300);
    return {
      store: kind,
      writesPerSec: Math.round(writesPerSec),
      readsPerSec: await rate(read, 1),
      readsPerSecConcurrent: await rate(read, 8),
      searchesPerSec: await rate(search, 1),
      searchesPerSecConcurrent: await rate(search, 8),
      transactionLoadPerSec: await transactionLoad(repo),
    };
  } finally {
    await store.close();
  }
}

/** Resources/s loaded by 10 transaction Bundles of 500 Patients and 500 Coverages referring to them. */
async function transactionLoad(repo: Repository): Promise<number> {
  const urn = (n: number) => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const bundles = Array.from({ length: 10 }, (_, b) => ({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: Array.from({ length: 500 }, (_, i) => [
      {
        fullUrl: urn(b * 500 + i),
        resource: patient({ identifier: [{ system: 'urn:load', value: `L-${b}-${i}` }] }),
        request: { method: 'POST', url: 'Patient' },
      },
      {
        resource: coverage('', { beneficiary: { reference: urn(b * 500 + i) } }),
        request: { method: 'POST', url: 'Coverage' },
      },
    ]).flat(),
  }));
  const started = performance.now();
  for (const bundle of bundles) await runBundle(repo, bundle, 1_000);
  return Math.round(10_000 / ((performance.now() - started) / 1000));
}

/** Operations per second over `ms`, with `concurrency` callers in flight. */
async function rate(op: (i: number) => Promise<unknown>, concurrency: number, ms = DURATION_MS): Promise<number> {
  let count = 0;
  const end = performance.now() + ms;
  const worker = async (w: number) => {
    for (let i = w; performance.now() < end; i += concurrency) {
      await op(i);
      count++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return Math.round(count / ((performance.now() - started) / 1000));
}

export type { Repository };

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchStore();
}
