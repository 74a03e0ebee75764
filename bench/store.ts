/**
 * Repository-level throughput of the FHIR store on PGlite and PostgreSQL: seeds 1,000 Patients, Coverages and
 * Bots into a fresh store, then measures reads/s and searches/s, one at a time and 8 in flight, and loads 10,000
 * resources by transaction Bundles of 1,000 (a Patient and a Coverage referring to it by `urn:uuid:` each).
 * Bulk Data export: the repository-level store is exported by chunks of 1,000 (Patients and Coverages, ~12,000),
 * back to back with no pause (`exportPerSec`: what the chunk queries and file writes cost). Then, through HTTP on a
 * real server per store (`hooksDuringExport`): 40,000 resources loaded by transaction Bundles of 1,000
 * (`httpLoadPerSec`), a CDS hook (bench/cds.ts's trivial bot, prefetch supplied, access token) driven by wrk at 4
 * connections for BENCH_EXPORT_HOOK_SECONDS (6) without an export, then again while a system `$export` of all of
 * it runs (the server's own paced runner), alternating BENCH_EXPORT_ROUNDS (2) times: hooks' p99 both ways, and the
 * export's resources/s while hooks run.
 * Run: `npm run bench -- store` (or `node --conditions=hookbot-source --import tsx bench/store.ts`).
 * PostgreSQL is `HOOKBOT_TEST_PG_URL` (default postgres://postgres@127.0.0.1:5432/postgres); a scratch database
 * is created and dropped.
 */
import { pathToFileURL } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';
import {
  bot,
  claimJob,
  coverage,
  createJob,
  createRepository,
  runChunk,
  openTestStore,
  patient,
  runBundle,
  testAccess,
} from '@hookbot/server/testing';
import { runMigrations, STORE_KINDS, type Repository, type StoreKind } from '@hookbot/server/testing';
import type { Database } from '../packages/server/src/infra/database.js';
import { getToken, request } from '../test/support/http.js';
import { startTestServer } from '../test/support/server.js';
import { wrkPost } from './wrk.js';

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
  /** Resources per second exported by chunks of 1,000, back to back (no pause between chunks). */
  exportPerSec: number;
}

export interface ExportHooksResult {
  store: StoreKind;
  round: number;
  /** Resources per second loaded through `POST /fhir/R4` by transaction Bundles of 1,000. */
  httpLoadPerSec: number;
  hookP50Ms: number;
  hookP99Ms: number;
  hookP50DuringExportMs: number;
  hookP99DuringExportMs: number;
  p99Ratio: number;
  hookRps: number;
  hookRpsDuringExport: number;
  /** Resources per second the server's runner exported while the hooks ran (its own pacing). */
  exportPerSecDuringHooks: number;
  /** Whether the export was still running when the hook run ended (else the run overlapped it only in part). */
  exportOutlastedHooks: boolean;
}

export async function benchStore(): Promise<StoreBenchResult[]> {
  const results: StoreBenchResult[] = [];
  for (const kind of STORE_KINDS) {
    results.push(await benchOne(kind));
  }
  console.table(results);
  const hooks: ExportHooksResult[] = [];
  for (const kind of STORE_KINDS) hooks.push(...(await hooksDuringExport(kind)));
  console.table(hooks);
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
      exportPerSec: await exportAll(store.db, repo.access.projectId),
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

/** Resources/s of a system export of every Patient and Coverage, chunks of 1,000 run back to back. */
async function exportAll(db: Database, projectId: string): Promise<number> {
  const started = performance.now();
  const queued = await createJob(
    db,
    {
      projectId,
      clientId: 'bench',
      requestUrl: 'bench',
      spec: { level: 'system', types: ['Patient', 'Coverage'] },
    },
    1,
  );
  let exported = 0;
  for (;;) {
    const job = await claimJob(db);
    if (!job || job.id !== queued.id) throw new Error('the bench export job was not claimed');
    const before = job.exported;
    const result = await runChunk(db, job, 1_000, 3_600);
    const { rows } = await db.query<{ exported: string }>('SELECT exported FROM export_jobs WHERE id = $1', [job.id]);
    exported = Number(rows[0]?.exported ?? before);
    if (result !== 'more') break;
  }
  return Math.round(exported / ((performance.now() - started) / 1000));
}

const HOOK_BOT = `exports.handler = async (medplum, event) => ({
  cards: [{ summary: 'Coverage on file: ' + event.input.prefetch.patient.id, indicator: 'info', source: { label: 'bench' } }],
});`;
const HOOK_BODY = JSON.stringify({
  hook: 'patient-view',
  hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
  context: { userId: 'Practitioner/prac-1', patientId: 'pat-a' },
  prefetch: { patient: { resourceType: 'Patient', id: 'pat-a', name: [{ family: 'Able' }], birthDate: '1970-01-01' } },
});
const HOOK_SECONDS = Number(process.env.BENCH_EXPORT_HOOK_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_EXPORT_ROUNDS ?? 2);
const LOADED = 40_000;

/** A CDS hook's latency with and without a `$export` running on the same server, and the export's pace meanwhile. */
async function hooksDuringExport(kind: StoreKind): Promise<ExportHooksResult[]> {
  const t = await startTestServer({ store: kind });
  try {
    const fhir = `${t.url}/fhir/R4`;
    const token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const bot = await request<{ id: string }>(`${fhir}/Bot`, {
      method: 'POST',
      token,
      json: {
        resourceType: 'Bot',
        name: 'bench',
        cdsService: {
          hook: 'patient-view',
          title: 'Bench',
          description: 'Bench',
          prefetch: [{ key: 'patient', query: 'Patient/{{context.patientId}}' }],
        },
      },
    });
    await request(`${fhir}/Bot/${bot.body.id}/$deploy`, { method: 'POST', token, json: { code: HOOK_BOT } });
    const serviceUrl = `${t.url}/cds-services/${bot.body.id}`;

    const urn = (n: number) => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const loadStarted = performance.now();
    for (let b = 0; b < LOADED / 1_000; b++) {
      const entry = Array.from({ length: 500 }, (_, i) => [
        {
          fullUrl: urn(b * 500 + i),
          resource: patient({ identifier: [{ system: 'urn:load', value: `L-${b}-${i}` }] }),
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: coverage('', { beneficiary: { reference: urn(b * 500 + i) } }),
          request: { method: 'POST', url: 'Coverage' },
        },
      ]).flat();
      const res = await request(fhir, {
        method: 'POST',
        token,
        json: { resourceType: 'Bundle', type: 'transaction', entry },
      });
      if (res.status !== 200)
        throw new Error(`loading failed: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    const httpLoadPerSec = Math.round(LOADED / ((performance.now() - loadStarted) / 1000));

    const hooks = (seconds = HOOK_SECONDS) =>
      wrkPost(serviceUrl, {
        connections: 4,
        seconds,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: HOOK_BODY,
      });
    for (let i = 0; i < 300; i++) {
      await fetch(serviceUrl, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: HOOK_BODY,
      });
    }
    await hooks(3); // warm under load

    const rows: ExportHooksResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const quiet = await hooks();
      const kickoff = await request(`${fhir}/$export?_type=Patient,Coverage`, {
        token,
        headers: { Prefer: 'respond-async' },
      });
      const status = kickoff.headers.get('content-location');
      if (kickoff.status !== 202 || !status) throw new Error(`export kick-off failed: ${kickoff.status}`);
      const started = performance.now();
      const busy = await hooks();
      const elapsed = (performance.now() - started) / 1000;
      const progress = await fetch(status, { headers: { Authorization: `Bearer ${token}` } });
      const exported =
        progress.status === 202
          ? Number(/^(\d+)/.exec(progress.headers.get('x-progress') ?? '')?.[1] ?? 0)
          : ((await progress.json()) as { output: { count: number }[] }).output.reduce((n, o) => n + o.count, 0);
      await fetch(status, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
      rows.push({
        store: kind,
        round,
        httpLoadPerSec,
        hookP50Ms: quiet.p50Ms,
        hookP99Ms: quiet.p99Ms,
        hookP50DuringExportMs: busy.p50Ms,
        hookP99DuringExportMs: busy.p99Ms,
        p99Ratio: Math.round((busy.p99Ms / quiet.p99Ms) * 100) / 100,
        hookRps: Math.round(quiet.rps),
        hookRpsDuringExport: Math.round(busy.rps),
        exportPerSecDuringHooks: Math.round(exported / elapsed),
        exportOutlastedHooks: progress.status === 202,
      });
    }
    return rows;
  } finally {
    await t.stop();
  }
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
