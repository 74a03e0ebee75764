/**
 * The PostgreSQL plans of chained and `_has` searches over a few thousand resources: seeds two projects (the one
 * searched and a neighbour with the same identifiers), then prints EXPLAIN ANALYZE of each search's statement and
 * whether any step reads a whole table (`Seq Scan`). Run:
 * `node --conditions=hookbot-source --import tsx bench/search-plans.ts` (PostgreSQL from HOOKBOT_TEST_PG_URL; a
 * scratch database is created and dropped).
 */
import type { Resource } from '@medplum/fhirtypes';
import {
  coverage,
  createRepository,
  openTestStore,
  parseScopes,
  patient,
  patientAccess,
  runMigrations,
  testAccess,
  type Repository,
} from '@hookbot/server/testing';

const PATIENTS = Number(process.env.PATIENTS ?? 2_000);
const CHUNK = 500;

type Db = Parameters<typeof createRepository>[0];

async function seed(repo: Repository): Promise<void> {
  const orgs = await repo.createMany(
    Array.from({ length: 20 }, (_, i) => ({ resourceType: 'Organization', name: `Plan ${i}` }) as Resource),
  );
  for (let start = 0; start < PATIENTS; start += CHUNK) {
    const n = Math.min(CHUNK, PATIENTS - start);
    const patients = await repo.createMany(
      Array.from({ length: n }, (_, k) =>
        patient({
          identifier: [{ system: 'urn:member', value: `M-${start + k}` }],
          birthDate: `19${50 + ((start + k) % 50)}-0${1 + ((start + k) % 9)}-1${(start + k) % 10}`,
          name: [{ family: `Family${(start + k) % 100}` }],
        }),
      ),
    );
    const coverages = await repo.createMany(
      patients.map((p, k) =>
        coverage(p.id as string, {
          status: (start + k) % 50 === 0 ? 'cancelled' : 'active',
          payor: [{ reference: `Organization/${orgs[(start + k) % orgs.length]?.id}` }],
        }),
      ),
    );
    await repo.createMany(
      patients.flatMap((p, k) =>
        [0, 1].map(
          () =>
            ({
              resourceType: 'ExplanationOfBenefit',
              status: 'active',
              type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
              use: 'claim',
              patient: { reference: `Patient/${p.id}` },
              created: '2024-01-01',
              insurer: { reference: `Organization/${orgs[0]?.id}` },
              provider: { reference: 'Practitioner/none' },
              outcome: 'complete',
              insurance: [{ focal: true, coverage: { reference: `Coverage/${coverages[k]?.id}` } }],
            }) as Resource,
        ),
      ),
    );
  }
}

/** A repository whose statements are recorded, to explain the search's own SQL with its own parameters. */
function recording(db: Db, log: [string, unknown[]][]): Db {
  return new Proxy(db, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (prop === 'query') {
        return (sql: string, params: unknown[] = [], ...rest: unknown[]) => {
          log.push([sql, params]);
          return (value as (...a: unknown[]) => unknown).call(target, sql, params, ...rest);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function main(): Promise<void> {
  const store = await openTestStore('postgres');
  try {
    await runMigrations(store.db);
    const access = testAccess();
    const started = performance.now();
    await seed(createRepository(store.db, access));
    await seed(createRepository(store.db, testAccess()));
    await store.db.query('ANALYZE');
    const { rows } = await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_index');
    console.log(
      `seeded ${PATIENTS * 4 + 20} resources per project, 2 projects, ${rows[0]?.n} index rows, in ${Math.round(performance.now() - started)} ms`,
    );
    const searches: [string, string][] = [
      ['ExplanationOfBenefit', `patient.identifier=urn:member|M-${Math.floor(PATIENTS / 2)}`],
      ['Coverage', 'beneficiary:Patient.birthdate=1980-04-10'],
      ['Patient', '_has:Coverage:beneficiary:status=cancelled'],
      ['ExplanationOfBenefit', 'coverage.payor:Organization.name=Plan 7&_count=5'],
      ['Patient', '_has:ExplanationOfBenefit:patient:coverage.status=cancelled&_count=5'],
    ];
    const [member] = await createRepository(store.db, access).searchResources('Patient', {
      identifier: 'urn:member|M-1',
    });
    const memberAccess = patientAccess({
      projectId: access.projectId,
      patient: member?.id as string,
      scopes: parseScopes('patient/*.rs'),
    });
    searches.push(['ExplanationOfBenefit', 'coverage.payor:Organization.name=Plan 1 (as the member M-1)']);
    for (const [type, query] of searches) {
      const log: [string, unknown[]][] = [];
      const asMember = query.endsWith('(as the member M-1)');
      const repo = createRepository(recording(store.db, log), asMember ? memberAccess : access);
      const bundle = await repo.search(type, new URLSearchParams(query.replace(/ \(as .*$/, '')));
      const [sql, params] = log[0] ?? ['', []];
      const plan = await store.db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ANALYZE ${sql}`, params);
      const lines = plan.rows.map((r) => r['QUERY PLAN']);
      const seq = lines.filter((l) => l.includes('Seq Scan'));
      console.log(
        `\n${type}?${query}: ${bundle.entry?.length ?? 0} entries; ${lines.at(-1)}; ${seq.length ? `SEQ SCANS: ${seq.join(' | ')}` : 'no sequential scan'}`,
      );
      if (process.env.PLANS) console.log(lines.join('\n'));
    }
  } finally {
    await store.close();
  }
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
