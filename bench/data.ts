/**
 * Data at a payer's scale. `npm run bench -- data` loads a synthetic payer into its own PostgreSQL database
 * (`hookbot_bench_data` on HOOKBOT_TEST_PG_URL): provider Organizations, then members — a Patient, a Coverage, their
 * ExplanationOfBenefits (claim number, billable period, diagnoses, one to three items with CPT codes and adjudicated
 * amounts, provider and coverage references) and an AuditEvent of a past member access each — all through the
 * transaction API (`POST /fhir/R4` transaction Bundles over HTTP to a started server), into the demo project.
 * The database and the server's data folder are kept afterwards (a second run skips the load; `--fresh` starts
 * over; a run interrupted mid-load resumes after the last committed Bundle).
 *
 * Then it measures, on that database and on an empty one (the demo seed and the one benchmarked member, with the same
 * number of EOBs), what must stay fast at that size: a member's `ExplanationOfBenefit?_include=…:coverage` (member
 * token, audited) and the payer's same search naming the patient, a CDS hook whose bot reads the member's claim history
 * through the FHIR client, PAS `Claim/$submit` and `$inquire`, discovery (`GET /cds-services`) and the compliance
 * officer's AuditEvent search (the member as agent, over a date range). Each with wrk at 1 connection; the verdict is
 * on the median (p50) against the empty database's, within 2×.
 *
 * Options: --members N (100000), --eobs N (1000000), --audits N (one per member), --providers N (500),
 * --concurrency N (Bundles in flight, 2), --fresh (drop and reload), --load-only, --bench-only, --seconds N (6 per
 * target), --report FILE (also write the tables to FILE as Markdown), --partial (measure a load that has not
 * finished at the size it has reached). PostgreSQL is HOOKBOT_TEST_PG_URL
 * (postgres://postgres@127.0.0.1:5432/postgres); Redis is HOOKBOT_TEST_REDIS_URL (redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import pg from 'pg';
import { loadConfig, startServer, type RunningServer } from '@hookbot/server';
import { createLogger, RedisSharedState, signAccessToken } from '@hookbot/server/testing';
import { getToken, request } from '../test/support/http.js';
import { freePort } from '../test/support/port.js';
import { wrkPost, type WrkResult } from './wrk.js';

const PG_URL = process.env.HOOKBOT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.HOOKBOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE = 'hookbot_bench_data';
const EMPTY_DATABASE = 'hookbot_bench_data_empty';
const MEMBER_SYSTEM = 'https://bench.hookbot.dev/member-id';
const CLAIM_SYSTEM = 'https://bench.hookbot.dev/claim-number';
const NPI = 'http://hl7.org/fhir/sid/us-npi';
const PAYER = 'Organization/demo-health-plan';

export interface DataOptions {
  members: number;
  eobs: number;
  audits: number;
  providers: number;
  concurrency: number;
  fresh: boolean;
  load: boolean;
  bench: boolean;
  seconds: number;
  report?: string;
  /** Measure what is loaded even when the load has not finished. */
  partial: boolean;
}

function parseOptions(argv: string[]): DataOptions {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  };
  const num = (name: string, fallback: number): number => {
    const raw = value(name);
    const n = raw === undefined ? fallback : Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${raw}"`);
    return n;
  };
  const members = Math.max(1, num('members', 100_000));
  return {
    members,
    eobs: num('eobs', 1_000_000),
    audits: num('audits', members),
    providers: Math.max(1, num('providers', 500)),
    concurrency: Math.max(1, num('concurrency', 2)),
    fresh: argv.includes('--fresh'),
    load: !argv.includes('--bench-only'),
    bench: !argv.includes('--load-only'),
    seconds: Math.max(1, num('seconds', 6)),
    report: value('report'),
    partial: argv.includes('--partial'),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The synthetic payer: deterministic from the member's index, so a resumed load writes what a whole one would.

const pad = (n: number, width = 7) => String(n).padStart(width, '0');
/** A small deterministic hash: the same member always gets the same facts. */
const mix = (n: number, salt: number) => {
  let x = (n + 1) * 2654435761 + salt * 40503;
  x ^= x >>> 13;
  x = Math.imul(x, 0x5bd1e995);
  x ^= x >>> 15;
  return Math.abs(x);
};
const pick = <T>(list: readonly T[], n: number, salt: number): T => list[mix(n, salt) % list.length] as T;

const FAMILIES = ['Garcia', 'Smith', 'Nguyen', 'Johnson', 'Okafor', 'Kowalski', 'Haddad', 'Tanaka', 'Brown', 'Silva'];
const GIVEN = ['Ada', 'Ben', 'Chloe', 'Diego', 'Emma', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jon', 'Kim', 'Luca'];
const CITIES = [
  ['Boston', 'MA', '02118'],
  ['Madison', 'WI', '53703'],
  ['Austin', 'TX', '78701'],
  ['Denver', 'CO', '80202'],
  ['Columbus', 'OH', '43215'],
] as const;
/** CPT codes with a typical allowed amount. */
const SERVICES = [
  ['99213', 'Office visit, established patient, low complexity', 92],
  ['99214', 'Office visit, established patient, moderate complexity', 131],
  ['80053', 'Comprehensive metabolic panel', 14],
  ['85025', 'Complete blood count with differential', 11],
  ['93000', 'Electrocardiogram, complete', 17],
  ['71046', 'Chest X-ray, 2 views', 32],
  ['97110', 'Therapeutic exercises, each 15 minutes', 29],
  ['36415', 'Routine venipuncture', 3],
  ['99283', 'Emergency department visit, moderate severity', 188],
  ['93456', 'Coronary angiography with right heart catheterization', 1410],
] as const;
const DIAGNOSES = ['E11.9', 'I10', 'J06.9', 'M54.5', 'Z00.00', 'E78.5', 'F41.1', 'K21.9', 'R07.9', 'I25.10'];
const CLAIM_TYPES = ['professional', 'professional', 'professional', 'institutional', 'pharmacy'] as const;

/** The EOBs of member `m`: an even share of `eobs`, the first members taking the remainder. */
export function eobCount(m: number, members: number, eobs: number): number {
  return Math.floor(eobs / members) + (m < eobs % members ? 1 : 0);
}

const day = (base: Date, offsetDays: number) => new Date(base.getTime() + offsetDays * 86_400_000);
const isoDate = (d: Date) => d.toISOString().slice(0, 10);
/** A valid UUID per member and kind (a: Patient, b: Coverage): `fullUrl`s unique within a Bundle. */
const urn = (kind: 'a' | 'b', m: number) => `urn:uuid:${kind}${pad(m)}-0000-4000-8000-000000000000`;

/** A member's entries: Patient, Coverage, EOBs and past-access AuditEvents, referring to each other by urn:uuid. */
export function memberEntries(
  m: number,
  options: Pick<DataOptions, 'members' | 'eobs' | 'audits'>,
  providers: string[],
  now: Date,
): BundleEntry[] {
  const patientUrn = urn('a', m);
  const coverageUrn = urn('b', m);
  const [city, state, zip] = pick(CITIES, m, 1);
  const birth = day(new Date('1940-01-01T00:00:00Z'), mix(m, 2) % 29_000);
  const patient: Resource = {
    resourceType: 'Patient',
    identifier: [{ system: MEMBER_SYSTEM, value: `BM${pad(m)}` }],
    active: true,
    name: [{ family: pick(FAMILIES, m, 3), given: [pick(GIVEN, m, 4)] }],
    gender: m % 2 ? 'male' : 'female',
    birthDate: isoDate(birth),
    address: [{ line: [`${1 + (mix(m, 5) % 999)} Main St`], city, state, postalCode: zip, country: 'US' }],
  };
  const coverage: Resource = {
    resourceType: 'Coverage',
    identifier: [{ system: MEMBER_SYSTEM, value: `BM${pad(m)}-01` }],
    status: 'active',
    subscriberId: `BS${pad(m)}`,
    beneficiary: { reference: patientUrn },
    subscriber: { reference: patientUrn },
    relationship: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscriber-relationship', code: 'self' }],
    },
    period: { start: `${2020 + (m % 5)}-01-01` },
    payor: [{ reference: PAYER }],
    class: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'group' }] },
        value: `GRP${1000 + (m % 50)}`,
      },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'plan' }] },
        value: m % 3 ? 'PPO-GOLD' : 'HMO-SILVER',
      },
    ],
  };
  const entries: BundleEntry[] = [
    { fullUrl: patientUrn, resource: patient, request: { method: 'POST', url: 'Patient' } },
    { fullUrl: coverageUrn, resource: coverage, request: { method: 'POST', url: 'Coverage' } },
  ];
  const count = eobCount(m, options.members, options.eobs);
  for (let k = 0; k < count; k++) {
    const n = m * 1000 + k;
    const service = day(now, -1 - (mix(n, 6) % 1_095));
    const items = 1 + (mix(n, 7) % 3);
    const claimType = pick(CLAIM_TYPES, n, 8);
    let total = 0;
    const item = Array.from({ length: items }, (_, i) => {
      const [code, display, price] = pick(SERVICES, n, 9 + i);
      const submitted = Math.round(price * 1.6 * 100) / 100;
      const allowed = price;
      total += submitted;
      return {
        sequence: i + 1,
        diagnosisSequence: [1],
        productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code, display }] },
        servicedDate: isoDate(service),
        quantity: { value: 1 },
        net: { value: submitted, currency: 'USD' },
        adjudication: [
          { category: { coding: [{ code: 'submitted' }] }, amount: { value: submitted, currency: 'USD' } },
          { category: { coding: [{ code: 'eligible' }] }, amount: { value: allowed, currency: 'USD' } },
          {
            category: { coding: [{ code: 'benefit' }] },
            amount: { value: Math.round(allowed * 80) / 100, currency: 'USD' },
          },
        ],
      };
    });
    entries.push({
      resource: {
        resourceType: 'ExplanationOfBenefit',
        identifier: [{ system: CLAIM_SYSTEM, value: `CLM${pad(m)}-${pad(k, 3)}` }],
        status: 'active',
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: claimType }] },
        use: 'claim',
        patient: { reference: patientUrn },
        billablePeriod: { start: isoDate(service), end: isoDate(service) },
        created: day(service, 3 + (mix(n, 12) % 20)).toISOString(),
        insurer: { reference: PAYER },
        provider: { reference: pick(providers, n, 13) },
        outcome: 'complete',
        diagnosis: [
          {
            sequence: 1,
            diagnosisCodeableConcept: {
              coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: pick(DIAGNOSES, n, 14) }],
            },
          },
        ],
        insurance: [{ focal: true, coverage: { reference: coverageUrn } }],
        item,
        total: [
          {
            category: { coding: [{ code: 'submitted' }] },
            amount: { value: Math.round(total * 100) / 100, currency: 'USD' },
          },
        ],
        payment: { amount: { value: Math.round(total * 50) / 100, currency: 'USD' } },
      } as Resource,
      request: { method: 'POST', url: 'ExplanationOfBenefit' },
    });
  }
  const audits = Math.floor(options.audits / options.members) + (m < options.audits % options.members ? 1 : 0);
  for (let k = 0; k < audits; k++) {
    entries.push({
      resource: {
        resourceType: 'AuditEvent',
        type: { system: 'https://hookbot.dev/fhir/CodeSystem/audit-type', code: 'patient-access' },
        subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'search-type' }],
        action: 'E',
        recorded: day(now, -(mix(m * 7 + k, 15) % 365)).toISOString(),
        outcome: '0',
        agent: [
          { who: { reference: patientUrn }, requestor: true },
          { who: { display: 'member app' }, requestor: false },
        ],
        source: { observer: { display: 'payer portal (imported)' } },
        entity: [{ what: { reference: patientUrn } }, { description: 'GET /ExplanationOfBenefit' }],
      } as Resource,
      request: { method: 'POST', url: 'AuditEvent' },
    });
  }
  return entries;
}

function providerEntries(from: number, to: number): BundleEntry[] {
  return Array.from({ length: to - from }, (_, i) => {
    const p = from + i;
    const [city, state, zip] = pick(CITIES, p, 16);
    return {
      resource: {
        resourceType: 'Organization',
        identifier: [{ system: NPI, value: `1${pad(p, 9)}` }],
        active: true,
        type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov' }] }],
        name: `${pick(FAMILIES, p, 17)} ${p % 4 ? 'Medical Group' : 'Community Hospital'} ${p}`,
        address: [{ city, state, postalCode: zip, country: 'US' }],
      } as Resource,
      request: { method: 'POST', url: 'Organization' },
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The server, on a database the bench keeps.

interface State {
  env: Record<string, string>;
  /** Members whose Bundles have committed (the load goes in member order). */
  membersLoaded: number;
  providers: string[];
  options: Pick<DataOptions, 'members' | 'eobs' | 'audits' | 'providers'>;
  loadSeconds: number;
  /** Resources written by the load, and the wall time, for the rate. */
  resources: number;
  now: string;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

interface Running {
  url: string;
  server: RunningServer;
  demo: { projectId: string; clientId: string; clientSecret: string };
  stop(): Promise<void>;
}

/** A server on `database`, its data folder `dataDir` (the demo credentials and keys live there across runs). */
async function start(database: string, dataDir: string, env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  const config = loadConfig({
    ...env,
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    HOOKBOT_DATA_DIR: dataDir,
    DATABASE_URL: url.toString(),
    REDIS_URL: REDIS_URL,
    // A load is one client writing as fast as it can; a per-client limit is not what is measured here.
    HOOKBOT_RATE_LIMIT: '10000000',
  });
  const server = await startServer(config, createLogger(process.env.HOOKBOT_BENCH_LOG ?? 'silent'));
  const demo = JSON.parse(await readFile(path.join(dataDir, 'demo-credentials.json'), 'utf8')) as Running['demo'];
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    demo,
    async stop() {
      await server.stop();
      const redis = new RedisSharedState(REDIS_URL, env.HOOKBOT_REDIS_PREFIX ?? 'hookbot-bench-data:');
      await redis.clearPrefix();
      await redis.close();
    },
  };
}

function freshEnv(): Record<string, string> {
  return {
    HOOKBOT_REDIS_PREFIX: `hookbot-bench-data:${randomBytes(4).toString('hex')}:`,
    HOOKBOT_ADMIN_CLIENT_ID: `admin-${randomBytes(4).toString('hex')}`,
    HOOKBOT_ADMIN_CLIENT_SECRET: randomBytes(24).toString('base64url'),
    HOOKBOT_SECRETS_KEY: randomBytes(32).toString('base64url'),
  };
}

async function postBundle(url: string, token: string, entry: BundleEntry[]): Promise<Bundle> {
  const res = await request<Bundle>(`${url}/fhir/R4`, {
    method: 'POST',
    token,
    headers: { 'Content-Type': 'application/fhir+json' },
    json: { resourceType: 'Bundle', type: 'transaction', entry },
  });
  if (res.status !== 200)
    throw new Error(`transaction answered ${res.status}: ${JSON.stringify(res.body).slice(0, 800)}`);
  return res.body;
}

const log = (line: string) => process.stdout.write(`${line}\n`);

/**
 * Loads members `from`..`options.members` in transaction Bundles of at most `maxEntries`, `concurrency` in flight;
 * after each Bundle commits in order, `onCommitted(members)` records progress.
 */
async function load(
  r: Running,
  state: State,
  options: DataOptions,
  onCommitted: (membersLoaded: number, resources: number) => Promise<void>,
  maxEntries = 1000,
): Promise<void> {
  const token = await getToken(r.url, r.demo.clientId, r.demo.clientSecret);
  const now = new Date(state.now);
  if (state.providers.length < options.providers) {
    for (let p = state.providers.length; p < options.providers; p += maxEntries) {
      const answer = await postBundle(r.url, token, providerEntries(p, Math.min(options.providers, p + maxEntries)));
      for (const e of answer.entry ?? [])
        state.providers.push((e.response?.location ?? '').split('/_history')[0] ?? '');
    }
    await onCommitted(state.membersLoaded, 0);
  }
  const started = performance.now();
  let next = state.membersLoaded;
  let resources = 0;
  let committedUpTo = state.membersLoaded;
  const done = new Map<number, { to: number; resources: number }>();
  let lastPrint = 0;
  const total = options.members - state.membersLoaded;
  const worker = async () => {
    while (next < options.members) {
      const from = next;
      const entries: BundleEntry[] = [];
      while (next < options.members) {
        const more = memberEntries(next, options, state.providers, now);
        if (entries.length > 0 && entries.length + more.length > maxEntries) break;
        entries.push(...more);
        next++;
      }
      const to = next;
      await postBundle(r.url, token, entries);
      done.set(from, { to, resources: entries.length });
      // Progress is recorded only over a gap-free prefix of committed Bundles, so a resumed run misses none.
      while (done.has(committedUpTo)) {
        const d = done.get(committedUpTo) as { to: number; resources: number };
        done.delete(committedUpTo);
        committedUpTo = d.to;
        resources += d.resources;
        await onCommitted(committedUpTo, d.resources);
      }
      const elapsed = (performance.now() - started) / 1000;
      if (elapsed - lastPrint >= 10 || committedUpTo === options.members) {
        lastPrint = elapsed;
        const loaded = committedUpTo - (options.members - total);
        const rate = resources / elapsed;
        const eta = loaded > 0 ? ((total - loaded) * elapsed) / loaded : NaN;
        log(
          `  ${committedUpTo}/${options.members} members, ${resources} resources in ${elapsed.toFixed(0)} s ` +
            `(${rate.toFixed(0)}/s; ETA ${Number.isFinite(eta) ? `${(eta / 60).toFixed(1)} min` : '?'}; load ${loadavg()[0]?.toFixed(2)})`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}

// ---------------------------------------------------------------------------------------------------------------
// What must stay fast.

/**
 * The bot of the history hook: reads the member's last claims from the payer's own store (the payer client, the
 * third handler argument's `payer`; `medplum` is the EHR's server) and summarises them.
 */
export const HISTORY_BOT = `exports.handler = async (medplum, event, clients) => {
  const patient = 'Patient/' + event.input.context.patientId;
  const claims = await clients.payer.searchResources('ExplanationOfBenefit', { patient, _sort: '-created', _count: '20' });
  const codes = new Set();
  let billed = 0;
  for (const eob of claims) {
    for (const item of eob.item || []) for (const c of (item.productOrService && item.productOrService.coding) || []) codes.add(c.code);
    for (const t of eob.total || []) billed += (t.amount && t.amount.value) || 0;
  }
  return { cards: [{
    summary: claims.length + ' recent claims, ' + codes.size + ' distinct services, $' + billed.toFixed(2) + ' billed',
    indicator: claims.length ? 'info' : 'warning',
    source: { label: 'Claims history (bench)' },
  }] };
};`;

export interface DataRow extends WrkResult {
  target: string;
}

interface Target {
  name: string;
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: string;
  /** The answer a correct call gives, checked once before measuring. */
  check(status: number, body: string): boolean;
}

async function targets(r: Running, member: number, pasMember: number): Promise<Target[]> {
  const { url } = r;
  const token = await getToken(url, r.demo.clientId, r.demo.clientSecret);
  const found = await request<Bundle>(
    `${url}/fhir/R4/Patient?identifier=${encodeURIComponent(`${MEMBER_SYSTEM}|BM${pad(member)}`)}`,
    { token },
  );
  const patientId = found.body.entry?.[0]?.resource?.id;
  if (!patientId) throw new Error(`member BM${pad(member)} is not loaded: ${JSON.stringify(found.body).slice(0, 300)}`);
  const { services } = r.server;
  const memberToken = await signAccessToken(
    services.key,
    services.config.baseUrl,
    {
      clientId: 'bench-member-app',
      projectId: r.demo.projectId,
      admin: false,
      role: 'member-app',
      scope: 'patient/*.rs',
      patient: patientId,
      fhirUser: `Patient/${patientId}`,
    },
    3600,
  );
  // The bench bot, created once per database (a second run finds it by name).
  const bots = await request<Bundle>(`${url}/fhir/R4/Bot?name=bench-claims-history`, { token });
  let botId = bots.body.entry?.[0]?.resource?.id;
  if (!botId) {
    const created = await request<{ id: string }>(`${url}/fhir/R4/Bot`, {
      method: 'POST',
      token,
      json: {
        resourceType: 'Bot',
        name: 'bench-claims-history',
        cdsService: {
          hook: 'patient-view',
          title: 'Claims history',
          description: "Summarises the member's recent claims (bench).",
        },
      },
    });
    botId = created.body.id;
  }
  const deployed = await request(`${url}/fhir/R4/Bot/${botId}/$deploy`, {
    method: 'POST',
    token,
    json: { code: HISTORY_BOT },
  });
  if (deployed.status !== 200) throw new Error(`deploy failed: ${deployed.status} ${JSON.stringify(deployed.body)}`);

  // The seed request for another loaded member, new to prior authorization in this run: $submit and $inquire read
  // the member's earlier authorizations (up to 100), which must not pile up over runs on the kept database.
  const seedBundle = JSON.parse(
    await readFile(path.join(import.meta.dirname, '../examples/pas/seed-request.json'), 'utf8'),
  ) as Bundle;
  for (const e of seedBundle.entry ?? []) {
    if (e.resource?.resourceType === 'Coverage') e.resource.subscriberId = `BS${pad(pasMember)}`;
  }
  const seed = JSON.stringify(seedBundle);
  const submitted = await request<Bundle>(`${url}/fhir/R4/Claim/$submit`, {
    method: 'POST',
    token,
    headers: { 'Content-Type': 'application/fhir+json' },
    body: seed,
  });
  const preAuthRef = (submitted.body.entry?.[0]?.resource as { preAuthRef?: string } | undefined)?.preAuthRef;
  if (submitted.status !== 200 || !preAuthRef) throw new Error(`$submit failed: ${JSON.stringify(submitted.body)}`);
  const inquiry = JSON.parse(seed) as Bundle;
  const claim = inquiry.entry?.find((e) => e.resource?.resourceType === 'Claim')?.resource as unknown as Record<
    string,
    unknown
  >;
  claim.identifier = [{ system: 'urn:bench:inquiry', value: 'trn-1' }];
  claim.extension = [
    {
      url: 'http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-authorizationNumber',
      valueString: preAuthRef,
    },
  ];

  const auth = { Authorization: `Bearer ${token}` };
  const fhirJson = { ...auth, 'Content-Type': 'application/fhir+json' };
  const since = isoDate(day(new Date(), -90));
  const until = isoDate(day(new Date(), 1));
  const ok = (status: number) => status === 200;
  return [
    {
      name: 'member EOB search + _include (member token)',
      url: `${url}/fhir/R4/ExplanationOfBenefit?_include=ExplanationOfBenefit:coverage`,
      method: 'GET',
      headers: { Authorization: `Bearer ${memberToken}` },
      body: '',
      check: (s, b) => ok(s) && b.includes('"mode":"include"') && b.includes('"ExplanationOfBenefit"'),
    },
    {
      name: 'payer EOB search patient= + _include',
      url: `${url}/fhir/R4/ExplanationOfBenefit?patient=Patient/${patientId}&_include=ExplanationOfBenefit:coverage`,
      method: 'GET',
      headers: auth,
      body: '',
      check: (s, b) => ok(s) && b.includes('"mode":"include"'),
    },
    {
      name: 'cds hook, bot reads claim history',
      url: `${url}/cds-services/${botId}`,
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        hook: 'patient-view',
        hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
        context: { userId: 'Practitioner/prac-1', patientId },
      }),
      check: (s, b) => ok(s) && /recent claims/.test(b) && !b.includes('"0 recent claims'),
    },
    {
      name: 'pas Claim/$inquire (by authorization number)',
      url: `${url}/fhir/R4/Claim/$inquire`,
      method: 'POST',
      headers: fhirJson,
      body: JSON.stringify(inquiry),
      check: (s, b) => ok(s) && b.includes(preAuthRef),
    },
    {
      name: 'pas Claim/$submit (seed bundle)',
      url: `${url}/fhir/R4/Claim/$submit`,
      method: 'POST',
      headers: fhirJson,
      body: seed,
      check: (s, b) => ok(s) && b.includes('ClaimResponse'),
    },
    {
      name: 'discovery GET /cds-services',
      url: `${url}/cds-services`,
      method: 'GET',
      headers: auth,
      body: '',
      check: (s, b) => ok(s) && b.includes('"services"'),
    },
    {
      name: 'AuditEvent?agent=member&date=90 days',
      url: `${url}/fhir/R4/AuditEvent?agent=Patient/${patientId}&date=ge${since}&date=lt${until}&_count=20`,
      method: 'GET',
      headers: auth,
      body: '',
      check: (s, b) => ok(s) && b.includes('"searchset"'),
    },
  ];
}

const ROUNDS = 3;

/** Checks a target's answer once, then warms it: compiles the bot, fills the caches. */
async function warm(r: Running, t: Target, label: string): Promise<void> {
  const first = await fetch(t.url, { method: t.method, headers: t.headers, body: t.body || undefined });
  const text = await first.text();
  if (!t.check(first.status, text)) {
    throw new Error(`[${label}] ${t.name}: unexpected answer ${first.status} ${text.slice(0, 600)}`);
  }
  for (let i = 0; i < 30; i++) await fetch(t.url, { method: t.method, headers: t.headers, body: t.body || undefined });
  await wrkPost(t.url, { connections: 1, seconds: 1, headers: t.headers, body: t.body, method: t.method });
  await r.server.services.audit.flush();
}

/**
 * Each target on both databases, in alternating rounds (at size, empty, at size, …): other work on this shared
 * machine comes and goes, and alternating spreads it over both figures instead of loading one of them. Per target and
 * database, the median of the rounds' p50 and p99, and the total rate.
 */
async function measure(
  servers: { label: string; r: Running; targets: Target[] }[],
  seconds: number,
): Promise<Map<string, DataRow[]>> {
  const rows = new Map<string, DataRow[]>(servers.map((x) => [x.label, []]));
  const names = servers[0]?.targets.map((t) => t.name) ?? [];
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  for (const name of names) {
    const runs = new Map<string, WrkResult[]>(servers.map((x) => [x.label, []]));
    for (const x of servers) await warm(x.r, x.targets.find((t) => t.name === name) as Target, x.label);
    for (let round = 0; round < ROUNDS; round++) {
      for (const x of servers) {
        const t = x.targets.find((y) => y.name === name) as Target;
        const result = await wrkPost(t.url, {
          connections: 1,
          seconds: Math.max(1, Math.round(seconds / ROUNDS)),
          headers: t.headers,
          body: t.body,
          method: t.method,
        });
        // The audit events of the round are written before the next one: neither database pays for the other's.
        await x.r.server.services.audit.flush();
        runs.get(x.label)?.push(result);
      }
    }
    for (const x of servers) {
      const results = runs.get(x.label) ?? [];
      const row: DataRow = {
        target: name,
        connections: 1,
        p50Ms: median(results.map((r) => r.p50Ms)),
        p99Ms: median(results.map((r) => r.p99Ms)),
        rps: results.reduce((n, r) => n + r.rps, 0) / results.length,
        non2xx: results.reduce((n, r) => n + r.non2xx, 0),
      };
      rows.get(x.label)?.push(row);
      log(
        `  [${x.label}] ${name}: p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms, ${row.rps.toFixed(0)}/s`,
      );
    }
  }
  return rows;
}

async function countRows(database: string): Promise<Record<string, number | string>> {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ resource_type: string; n: string }>(
      'SELECT resource_type, count(*) AS n FROM fhir_resources GROUP BY resource_type',
    );
    const index = await client.query<{ n: string }>('SELECT count(*) AS n FROM fhir_index');
    const size = await client.query<{ s: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS s');
    return {
      ...Object.fromEntries(rows.map((r) => [r.resource_type, Number(r.n)])),
      'index rows': Number(index.rows[0]?.n),
      [`database size`]: size.rows[0]?.s ?? '?',
    };
  } finally {
    await client.end();
  }
}

export async function benchData(argv = process.argv.slice(2)): Promise<void> {
  const options = parseOptions(argv);
  const dataDir = path.join(tmpdir(), 'hookbot-bench-data');
  const stateFile = path.join(dataDir, 'bench-state.json');
  if (options.fresh) {
    await adminQuery(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await rm(dataDir, { recursive: true, force: true });
  }
  let state: State | undefined;
  if (await databaseExists(DATABASE)) {
    state = JSON.parse(await readFile(stateFile, 'utf8').catch(() => 'null')) as State | undefined;
    if (!state) throw new Error(`${DATABASE} exists without ${stateFile}: run with --fresh`);
    const o = state.options;
    if (o.members !== options.members || o.eobs !== options.eobs || o.audits !== options.audits) {
      throw new Error(
        `${DATABASE} holds a payer of ${o.members} members, ${o.eobs} EOBs, ${o.audits} audits: run with --fresh to load another size`,
      );
    }
  } else {
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true });
    await adminQuery(`CREATE DATABASE ${DATABASE}`);
    state = {
      env: freshEnv(),
      membersLoaded: 0,
      providers: [],
      options: { members: options.members, eobs: options.eobs, audits: options.audits, providers: options.providers },
      loadSeconds: 0,
      resources: 0,
      now: new Date().toISOString(),
    };
    await writeFile(stateFile, JSON.stringify(state));
  }
  const s = state;
  const lines: string[] = [];
  const out = (line: string) => {
    lines.push(line);
    log(line);
  };
  out(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const big = await start(DATABASE, dataDir, s.env);
  let stopped: Promise<void> | undefined;
  const stopBig = () => (stopped ??= big.stop());
  try {
    if (options.load && s.membersLoaded < options.members) {
      log(
        `loading ${options.members} members, ${options.eobs} EOBs, ${options.audits} AuditEvents, ${options.providers} providers into ${DATABASE}` +
          (s.membersLoaded ? ` (resuming after member ${s.membersLoaded})` : ''),
      );
      let last = performance.now();
      await load(big, s, options, async (membersLoaded, resources) => {
        const t = performance.now();
        s.loadSeconds += (t - last) / 1000;
        last = t;
        s.membersLoaded = membersLoaded;
        s.resources += resources;
        await writeFile(stateFile, JSON.stringify(s));
      });
    }
    const partial = s.membersLoaded < options.members;
    if (partial && !options.partial) {
      throw new Error(`only ${s.membersLoaded} members are loaded: run again to resume, or add --partial`);
    }
    out(
      `load: ${s.resources} resources through the transaction API in ${s.loadSeconds.toFixed(0)} s ` +
        `(${(s.resources / Math.max(s.loadSeconds, 1e-9)).toFixed(0)} resources/s)` +
        (partial ? `; PARTIAL: ${s.membersLoaded} of ${options.members} members loaded` : ''),
    );
    if (!options.bench) return;
    out(`rows: ${JSON.stringify(await countRows(DATABASE))}`);
    const eob = Math.floor(s.membersLoaded / 2);
    // A member new to prior authorization: the at-size database is kept, and earlier runs submitted for others.
    const pas = (eob + 1 + Math.floor(Math.random() * (s.membersLoaded - 1))) % s.membersLoaded;
    const members = { eob, pas };
    log(`measuring (member BM${pad(eob)}, prior authorizations for BM${pad(pas)}), at size and on an empty database`);
    const empty = await startEmpty(options, members, s);
    try {
      const measured = await measure(
        [
          { label: 'at size', r: big, targets: await targets(big, eob, pas) },
          { label: 'empty', r: empty, targets: await targets(empty, eob, pas) },
        ],
        options.seconds,
      );
      print(out, options, measured.get('at size') ?? [], measured.get('empty') ?? [], s.membersLoaded);
    } finally {
      await empty.stop();
    }
  } finally {
    await stopBig();
  }
  out(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (options.report) {
    const command = `npm run bench -- data ${argv.filter((a) => a !== 'data').join(' ')}`;
    const header = [
      "# Data at a payer's scale",
      '',
      `Command: \`${command}\``,
      '',
      `Run: ${new Date().toISOString()}`,
      '',
    ];
    await mkdir(path.dirname(options.report), { recursive: true });
    await writeFile(options.report, `${[...header, ...lines].join('\n')}\n`);
  }
}

/** An empty database beside the big one: the demo seed, the providers and the benchmarked members. */
async function startEmpty(options: DataOptions, members: { eob: number; pas: number }, big: State): Promise<Running> {
  const dataDir = path.join(tmpdir(), `hookbot-bench-data-empty-${randomBytes(4).toString('hex')}`);
  await adminQuery(`DROP DATABASE IF EXISTS ${EMPTY_DATABASE} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${EMPTY_DATABASE}`);
  const r = await start(EMPTY_DATABASE, dataDir, freshEnv());
  const stop = async () => {
    await r.stop();
    await adminQuery(`DROP DATABASE IF EXISTS ${EMPTY_DATABASE} WITH (FORCE)`);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const token = await getToken(r.url, r.demo.clientId, r.demo.clientSecret);
    const providers: string[] = [];
    const answer = await postBundle(r.url, token, providerEntries(0, options.providers));
    for (const e of answer.entry ?? []) providers.push((e.response?.location ?? '').split('/_history')[0] ?? '');
    // The benchmarked members exactly as in the big database (same EOBs and past accesses).
    const now = new Date(big.now);
    const entries = [...new Set([members.eob, members.pas])].flatMap((m) => memberEntries(m, options, providers, now));
    await postBundle(r.url, token, entries);
    return { ...r, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function print(
  out: (line: string) => void,
  options: DataOptions,
  atSize: DataRow[],
  empty: DataRow[],
  loaded: number,
): void {
  const share = loaded / options.members;
  out(
    `${loaded} members, ~${Math.round(options.eobs * share)} EOBs, ~${Math.round(options.audits * share)} AuditEvents vs an empty database; wrk, 1 connection, ${options.seconds} s per target and database in ${ROUNDS} rounds alternating between the two (medians of the rounds), after 1 s of warm-up`,
  );
  out('');
  out(
    '| target | empty p50 ms | empty p99 ms | at size p50 ms | at size p99 ms | p50 ratio | req/s empty / at size | non-2xx |',
  );
  out('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  let all = true;
  for (const row of atSize) {
    const e = empty.find((x) => x.target === row.target);
    if (!e) continue;
    const ratio = row.p50Ms / e.p50Ms;
    const pass = ratio <= 2 && row.non2xx === 0 && e.non2xx === 0;
    all &&= pass;
    out(
      `| ${row.target} | ${e.p50Ms.toFixed(2)} | ${e.p99Ms.toFixed(2)} | ${row.p50Ms.toFixed(2)} | ${row.p99Ms.toFixed(2)} | ` +
        `${ratio.toFixed(2)}x${pass ? '' : ' MISSES'} | ${e.rps.toFixed(0)} / ${row.rps.toFixed(0)} | ${e.non2xx + row.non2xx} |`,
    );
  }
  out('');
  out(all ? 'verdict: every target stays within 2x of its empty-database p50' : 'verdict: some targets MISS 2x');
}
