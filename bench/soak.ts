/**
 * Soak: `npm run bench -- soak [--minutes 10] [--capacity N] [--report FILE]`. Starts a production-shaped server
 * (its own process, from source as `npm run dev` does, on PostgreSQL and Redis) and drives it with a mix of
 * traffic from this process:
 *
 *   CDS hook calls (prefetch supplied) 45%, the payer's FHIR searches 20%, a member's searches with a member token
 *   obtained through the member-access flow (sign-up, consent, code exchange) 20%, PAS `Claim/$submit` 14%, and
 *   `$deploy` of the hook's own bot with new code 1% (the hook calls that follow run the new code).
 *
 * First it measures capacity (unless --capacity is given): the mix closed-loop with 16 callers for 30 s after 10 s of
 * warm-up, completions per second. Then it offers 70% of that rate open-loop (requests start on a fixed schedule,
 * whatever the answers' latency, at most 256 in flight) for --minutes, sampling per minute: requests, errors (any
 * answer but the expected status, or a failure), p50/p99 of all requests and of each kind, the server process's RSS
 * and that of its bot worker processes, and the load average (other work on this machine shows there). The verdict:
 * zero errors; RSS stable (the last minute within 15% of the second minute's, once the caches are warm); p99
 * stable (no minute's p99 over twice the median minute's).
 *
 * PostgreSQL is HOOKBOT_TEST_PG_URL (a scratch database, dropped afterwards); Redis is HOOKBOT_TEST_REDIS_URL (a key
 * prefix of its own, cleared afterwards).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { createTestPostgresDatabase, RedisSharedState } from '@hookbot/server/testing';
import { getToken, request } from '../test/support/http.js';
import { memberToken } from '../test/support/member-launch.js';
import { freePort } from '../test/support/port.js';
import type { TestServer } from '../test/support/server.js';

const REDIS_URL = process.env.HOOKBOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = path.join(import.meta.dirname, '..');
const MAX_IN_FLIGHT = 256;
const CAPACITY_CALLERS = 16;

interface SoakOptions {
  minutes: number;
  capacity?: number;
  capacitySeconds: number;
  report?: string;
}

function parseOptions(argv: string[]): SoakOptions {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  };
  const num = (name: string): number | undefined => {
    const raw = value(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!(n > 0)) throw new Error(`--${name} must be a positive number, got "${raw}"`);
    return n;
  };
  return {
    minutes: num('minutes') ?? 10,
    capacity: num('capacity'),
    capacitySeconds: num('capacity-seconds') ?? 30,
    report: value('report'),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The server under test, in its own process: its RSS is its own, not the load generator's.

interface Server {
  url: string;
  child: ChildProcess;
  /** A stand-in for the in-process test server, enough for the member-access helpers. */
  t: TestServer;
  stop(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const database = await createTestPostgresDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hookbot-soak-'));
  const port = await freePort();
  const prefix = `hookbot-soak:${randomBytes(6).toString('hex')}:`;
  const url = `http://127.0.0.1:${port}`;
  const admin = {
    clientId: `admin-${randomBytes(4).toString('hex')}`,
    clientSecret: randomBytes(24).toString('base64url'),
  };
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    BASE_URL: url,
    HOOKBOT_DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    REDIS_URL,
    HOOKBOT_REDIS_PREFIX: prefix,
    HOOKBOT_SECRETS_KEY: randomBytes(32).toString('base64url'),
    HOOKBOT_ADMIN_CLIENT_ID: admin.clientId,
    HOOKBOT_ADMIN_CLIENT_SECRET: admin.clientSecret,
    LOG_LEVEL: process.env.HOOKBOT_BENCH_LOG ?? 'warn',
    // One demo client sends all the traffic: its per-client limit would measure the limiter, not the server.
    HOOKBOT_RATE_LIMIT: '10000000',
  };
  // From source, as `npm run dev` does (no build to go stale), but in production mode.
  const args = ['--no-node-snapshot', '--conditions=hookbot-source', '--import', 'tsx', 'packages/server/src/main.ts'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = once(child, 'exit');
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} while starting`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error('the server was not ready within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const demo = JSON.parse(await readFile(path.join(dataDir, 'demo-credentials.json'), 'utf8')) as TestServer['demo'];
  const t = {
    url,
    admin,
    demo,
    dataDir,
    env,
    server: { services: { config: { baseUrl: url } } },
  } as unknown as TestServer;
  return {
    url,
    child,
    t,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      const redis = new RedisSharedState(REDIS_URL, prefix);
      await redis.clearPrefix();
      await redis.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resident set sizes in MB: the server process, and its child processes (the bot workers). */
async function rss(pid: number): Promise<{ server: number; workers: number }> {
  const of = async (p: number | string) => {
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  };
  let workers = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) workers += await of(entry);
  }
  return { server: await of(pid), workers };
}

// ---------------------------------------------------------------------------------------------------------------
// The mix.

type Kind = 'hook' | 'search' | 'member' | 'pas' | 'deploy';
const WEIGHTS: [Kind, number][] = [
  ['hook', 45],
  ['search', 20],
  ['member', 20],
  ['pas', 14],
  ['deploy', 1],
];
const KINDS = WEIGHTS.map(([k]) => k);

const botCode = (version: number) => `exports.handler = async (medplum, event) => ({
  cards: [{ summary: 'Coverage on file (v${version}): ' + event.input.prefetch.patient.id, indicator: 'info', source: { label: 'soak' } }],
});`;

interface Call {
  url: string;
  init: RequestInit;
  expect: number;
}

async function prepare(s: Server): Promise<(kind: Kind, i: number) => Call> {
  const { url } = s;
  const token = await getToken(url, s.t.demo.clientId, s.t.demo.clientSecret);
  const auth = { Authorization: `Bearer ${token}` };
  const bot = await request<{ id: string }>(`${url}/fhir/R4/Bot`, {
    method: 'POST',
    token,
    json: {
      resourceType: 'Bot',
      name: 'soak',
      cdsService: {
        hook: 'patient-view',
        title: 'Soak',
        description: 'Soak',
        prefetch: [{ key: 'patient', query: 'Patient/{{context.patientId}}' }],
      },
    },
  });
  if (bot.status !== 201) throw new Error(`creating the bot: ${bot.status} ${JSON.stringify(bot.body)}`);
  const deployed = await request(`${url}/fhir/R4/Bot/${bot.body.id}/$deploy`, {
    method: 'POST',
    token,
    json: { code: botCode(0) },
  });
  if (deployed.status !== 200) throw new Error(`deploying the bot: ${deployed.status}`);

  // A member through the member-access flow, with claims of their own to search.
  const member = await memberToken(s.t);
  const coverages = await request<{ entry?: { resource: { id: string } }[] }>(
    `${url}/fhir/R4/Coverage?beneficiary=Patient/${member.patient}`,
    { token },
  );
  const coverageId = coverages.body.entry?.[0]?.resource.id;
  for (let i = 0; i < 8; i++) {
    const created = await request(`${url}/fhir/R4/ExplanationOfBenefit`, {
      method: 'POST',
      token,
      json: {
        resourceType: 'ExplanationOfBenefit',
        status: 'active',
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
        use: 'claim',
        patient: { reference: `Patient/${member.patient}` },
        created: `2026-0${1 + (i % 9)}-15`,
        insurer: { reference: 'Organization/demo-health-plan' },
        provider: { reference: 'Organization/demo-clinic-boston' },
        outcome: 'complete',
        insurance: [{ focal: true, coverage: { reference: `Coverage/${coverageId}` } }],
      },
    });
    if (created.status !== 201) throw new Error(`creating an EOB: ${created.status} ${JSON.stringify(created.body)}`);
  }
  const memberAuth = { Authorization: `Bearer ${member.token}` };
  const seed = await readFile(path.join(ROOT, 'examples/pas/seed-request.json'), 'utf8');
  const hookBody = (i: number) =>
    JSON.stringify({
      hook: 'patient-view',
      hookInstance: '7c1f7e4e-2a5e-4d3a-9d0c-3f6c1a2b4c5d',
      context: { userId: 'Practitioner/prac-1', patientId: `pat-${i % 100}` },
      prefetch: { patient: { resourceType: 'Patient', id: `pat-${i % 100}`, name: [{ family: 'Able' }] } },
    });
  const searches = [
    'Patient?name=Bixby&_count=10',
    `Coverage?beneficiary=Patient/${member.patient}`,
    `ExplanationOfBenefit?patient=Patient/${member.patient}&_include=ExplanationOfBenefit:coverage`,
    'Bot?cds-hook=patient-view&_count=20',
    'ClaimResponse?_count=10',
  ];
  const memberSearches = [
    'ExplanationOfBenefit?_include=ExplanationOfBenefit:coverage',
    'Coverage',
    `Patient/${member.patient}`,
  ];
  let version = 0;
  return (kind, i) => {
    switch (kind) {
      case 'hook':
        return {
          url: `${url}/cds-services/${bot.body.id}`,
          init: { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: hookBody(i) },
          expect: 200,
        };
      case 'search':
        return { url: `${url}/fhir/R4/${searches[i % searches.length]}`, init: { headers: auth }, expect: 200 };
      case 'member':
        return {
          url: `${url}/fhir/R4/${memberSearches[i % memberSearches.length]}`,
          init: { headers: memberAuth },
          expect: 200,
        };
      case 'pas':
        return {
          url: `${url}/fhir/R4/Claim/$submit`,
          init: { method: 'POST', headers: { ...auth, 'Content-Type': 'application/fhir+json' }, body: seed },
          expect: 200,
        };
      case 'deploy':
        return {
          url: `${url}/fhir/R4/Bot/${bot.body.id}/$deploy`,
          init: {
            method: 'POST',
            headers: { ...auth, 'Content-Type': 'application/json' },
            body: JSON.stringify({ code: botCode(++version) }),
          },
          expect: 200,
        };
    }
  };
}

/** Deterministic kinds in the mix's proportions (a fixed shuffle of 100 slots). */
function kindAt(i: number): Kind {
  const slots: Kind[] = WEIGHTS.flatMap(([k, w]) => Array<Kind>(w).fill(k));
  const at = (i * 37) % slots.length;
  return slots[at] as Kind;
}

interface Sample {
  kind: Kind;
  ms: number;
  ok: boolean;
}

async function call(c: Call): Promise<{ ok: boolean; ms: number; detail?: string }> {
  const started = performance.now();
  try {
    const res = await fetch(c.url, c.init);
    const text = await res.text();
    const ms = performance.now() - started;
    return res.status === c.expect
      ? { ok: true, ms }
      : { ok: false, ms, detail: `${res.status} ${text.slice(0, 300)}` };
  } catch (err) {
    return { ok: false, ms: performance.now() - started, detail: String(err) };
  }
}

const percentile = (sorted: number[], q: number) =>
  sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number) : NaN;

/** Completions per second of the mix, `callers` at a time, closed-loop. */
async function closedLoop(make: (k: Kind, i: number) => Call, callers: number, seconds: number): Promise<number> {
  let next = 0;
  let done = 0;
  let failed = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const i = next++;
        const r = await call(make(kindAt(i), i));
        if (r.ok) done++;
        else if (failed++ < 3) process.stderr.write(`capacity run: ${kindAt(i)} failed: ${r.detail}\n`);
      }
    }),
  );
  if (failed) throw new Error(`${failed} requests failed while measuring capacity`);
  return done / ((performance.now() - started) / 1000);
}

interface Minute {
  minute: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  byKind: Record<Kind, number>;
  rssServer: number;
  rssWorkers: number;
  load: number;
  dropped: number;
}

export async function benchSoak(argv = process.argv.slice(2)): Promise<void> {
  const options = parseOptions(argv);
  const lines: string[] = [];
  const out = (line: string) => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };
  const loadAtStart = loadavg();
  const s = await startServer();
  try {
    const make = await prepare(s);
    const pid = s.child.pid as number;
    process.stdout.write('warming up (10 s, closed-loop)...\n');
    await closedLoop(make, CAPACITY_CALLERS, 10);
    let capacity = options.capacity;
    if (!capacity) {
      capacity = await closedLoop(make, CAPACITY_CALLERS, options.capacitySeconds);
      out(
        `capacity: ${capacity.toFixed(1)} requests/s of the mix (closed-loop, ${CAPACITY_CALLERS} callers, ${options.capacitySeconds} s)`,
      );
    } else {
      out(`capacity: ${capacity} requests/s (given)`);
    }
    const rate = capacity * 0.7;
    out(`soak: ${rate.toFixed(1)} requests/s offered (70%) for ${options.minutes} min, open-loop`);

    const minutes: Minute[] = [];
    let samples: Sample[] = [];
    let inFlight = 0;
    let dropped = 0;
    let i = 0;
    const errors: string[] = [];
    const pending = new Set<Promise<void>>();
    const started = performance.now();
    const total = options.minutes * 60_000;
    let minuteEnd = 60_000;
    const closeMinute = async () => {
      const done = samples;
      samples = [];
      const all = done.map((x) => x.ms).sort((a, b) => a - b);
      const byKind = Object.fromEntries(
        KINDS.map((k) => [
          k,
          percentile(
            done
              .filter((x) => x.kind === k)
              .map((x) => x.ms)
              .sort((a, b) => a - b),
            0.99,
          ),
        ]),
      ) as Record<Kind, number>;
      const memory = await rss(pid);
      const m: Minute = {
        minute: minutes.length + 1,
        requests: done.length,
        errors: done.filter((x) => !x.ok).length,
        p50: percentile(all, 0.5),
        p99: percentile(all, 0.99),
        byKind,
        rssServer: memory.server,
        rssWorkers: memory.workers,
        load: loadavg()[0] ?? NaN,
        dropped,
      };
      dropped = 0;
      minutes.push(m);
      process.stdout.write(
        `  minute ${m.minute}: ${m.requests} requests, ${m.errors} errors, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms, RSS ${m.rssServer.toFixed(0)} + ${m.rssWorkers.toFixed(0)} MB, load ${m.load.toFixed(2)}\n`,
      );
    };
    // Open loop: the n-th request starts at n / rate seconds, whether or not the earlier ones have answered.
    while (performance.now() - started < total) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // The last minute closes after its stragglers have answered, below.
      if (performance.now() - started >= minuteEnd && minuteEnd < total) {
        minuteEnd += 60_000;
        await closeMinute();
      }
      const n = i++;
      if (inFlight >= MAX_IN_FLIGHT) {
        dropped++;
        continue;
      }
      const kind = kindAt(n);
      inFlight++;
      const p = call(make(kind, n)).then((r) => {
        inFlight--;
        samples.push({ kind, ms: r.ms, ok: r.ok });
        if (!r.ok && errors.length < 10) errors.push(`${kind}: ${r.detail}`);
      });
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    await Promise.all(pending);
    if (samples.length) await closeMinute();
    print(out, options, minutes, errors, { capacity, rate, loadAtStart, loadAtEnd: loadavg() });
  } finally {
    await s.stop();
  }
  if (options.report) {
    const command = `npm run bench -- soak ${argv.filter((a) => a !== 'soak').join(' ')}`;
    const header = ['# Soak', '', `Command: \`${command}\``, '', `Run: ${new Date().toISOString()}`, ''];
    await mkdir(path.dirname(options.report), { recursive: true });
    await writeFile(options.report, `${[...header, ...lines].join('\n')}\n`);
  }
}

function print(
  out: (line: string) => void,
  options: SoakOptions,
  minutes: Minute[],
  errors: string[],
  run: { capacity: number; rate: number; loadAtStart: number[]; loadAtEnd: number[] },
): void {
  const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  out(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GB, Node ${process.version}`,
  );
  out(
    `load average at start ${la(run.loadAtStart)}, at end ${la(run.loadAtEnd)} (1/5/15 min; other work shares these cores)`,
  );
  out('');
  out(
    `| minute | requests | errors | dropped | p50 ms | p99 ms | ${KINDS.map((k) => `p99 ${k}`).join(' | ')} | RSS server MB | RSS workers MB | load |`,
  );
  out(`| ---: | ---: | ---: | ---: | ---: | ---: | ${KINDS.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`);
  for (const m of minutes) {
    out(
      `| ${m.minute} | ${m.requests} | ${m.errors} | ${m.dropped} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ` +
        `${KINDS.map((k) => (Number.isNaN(m.byKind[k]) ? '-' : m.byKind[k].toFixed(1))).join(' | ')} | ` +
        `${m.rssServer.toFixed(0)} | ${m.rssWorkers.toFixed(0)} | ${m.load.toFixed(2)} |`,
    );
  }
  out('');
  const full = minutes.filter((m) => m.requests > 0);
  const errorsTotal = full.reduce((n, m) => n + m.errors + m.dropped, 0);
  const second = full[1] ?? full[0];
  const last = full[full.length - 1];
  const rssGrowth =
    second && last ? (last.rssServer + last.rssWorkers) / (second.rssServer + second.rssWorkers) - 1 : NaN;
  const p99s = full.map((m) => m.p99).sort((a, b) => a - b);
  const medianP99 = percentile(p99s, 0.5);
  const worstP99 = p99s[p99s.length - 1] ?? NaN;
  const rssOk = Math.abs(rssGrowth) <= 0.15;
  const p99Ok = worstP99 <= 2 * medianP99;
  out(`errors: ${errorsTotal}${errors.length ? ` (first: ${errors.join(' / ')})` : ''}`);
  out(
    `RSS (server + workers): minute 2 ${second ? (second.rssServer + second.rssWorkers).toFixed(0) : '-'} MB, last minute ` +
      `${last ? (last.rssServer + last.rssWorkers).toFixed(0) : '-'} MB (${(rssGrowth * 100).toFixed(1)}%): ${rssOk ? 'stable' : 'NOT stable'} (within 15%)`,
  );
  out(
    `p99: median minute ${medianP99.toFixed(1)} ms, worst minute ${worstP99.toFixed(1)} ms: ${p99Ok ? 'stable' : 'NOT stable'} (worst within 2x of the median)`,
  );
  out(
    `verdict: ${errorsTotal === 0 && rssOk && p99Ok ? 'PASS' : 'FAIL'} (${options.minutes} min at ${run.rate.toFixed(1)} requests/s, 70% of ${run.capacity.toFixed(1)})`,
  );
}
