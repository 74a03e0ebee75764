/**
 * A warm CDS Hooks invocation (prefetch supplied, trivial bot) over HTTP, measured with wrk at 4 and 32
 * connections, three ways: (i) with a Hookbot access token, (ii) with a CDS client JWT (RS384), (iii) a bare Koa
 * route returning the same JSON — the floor. Prints median, p99, requests/s and the ratio to the floor.
 *
 * The client JWTs are signed with RS384: Epic's default, and one of the two algorithms CDS Hooks recommends. The other,
 * ES384, costs far more to verify (measured on 2 cores through WebCrypto, per JWT: RS384 ~100 µs of CPU, ES256 ~160,
 * ES384 ~950); BENCH_CDS_JWT_ALG measures another.
 *
 * JWT run: each client JWT is single-use (jti replay protection), so a file of unique pre-signed JWTs is
 * generated first and a wrk Lua script hands each thread its own slice, one JWT per request: the numbers include
 * signature verification and the jti `SET NX`. Any non-2xx (e.g. a replay if the list ran out) is reported.
 *
 * Warm means warm under load: each server (the floor too) first serves BENCH_CDS_WARMUP_SECONDS (5) of the same
 * traffic at 4 connections, unmeasured. A few hundred calls fill the caches but leave the JIT tiers (PGlite's
 * WebAssembly tiers up its hot functions only after a while), the heap and the tables cold: without the warm-up the
 * first measured run cost ~20% more CPU per call and its p99 was 2–3 ms higher than the same run repeated.
 *
 * Run: `npm run bench -- cds`. Needs `wrk` on the PATH. The server runs in this process on PGlite, port 0.
 * Options (environment): HOOKBOT_BENCH_STORE=postgres (PostgreSQL and Redis), BENCH_ISOLATION=process,in-process
 * (empty: the floor only), BENCH_CDS_TARGETS=floor,access,jwt, BENCH_CDS_CONNECTIONS (4,32), BENCH_CDS_SECONDS (6),
 * BENCH_CDS_WARMUP_SECONDS (5), BENCH_WRK_THREADS (2), HOOKBOT_BOT_CONTEXTS=fresh (a new context per call instead
 * of sealed reused ones), HOOKBOT_PGLITE_PRIORITY=background (PGlite's thread under SCHED_IDLE), BENCH_CDS_JWT_ALG (RS384),
 * BENCH_WRK_RAW=1 (also print wrk's own report, with its 75% and 90% latencies), BENCH_CPU_PROFILE=<dir> (a CPU
 * profile of each measured run: bench/profile.ts).
 */
import { execFile } from 'node:child_process';
import { profiled } from './profile.js';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import Koa from 'koa';
import { getToken, request } from '../test/support/http.js';
import { startTestServer } from '../test/support/server.js';
import { parseWrk } from './wrk.js';

const run = promisify(execFile);
const DURATION_S = Number(process.env.BENCH_CDS_SECONDS ?? 6);
const WARMUP_S = Number(process.env.BENCH_CDS_WARMUP_SECONDS ?? 5);
const WARMUP_CONNECTIONS = 4;
const CONNECTIONS = (process.env.BENCH_CDS_CONNECTIONS ?? '4,32').split(',').map(Number);
const THREADS = Number(process.env.BENCH_WRK_THREADS ?? 2);
/** Enough unique JWTs for two 6 s JWT runs at over 3,000/s. */
const JWT_COUNT = Number(process.env.BENCH_CDS_JWTS ?? 40_000);
const JWT_ALG = process.env.BENCH_CDS_JWT_ALG ?? 'RS384';

const BOT = `exports.handler = async (medplum, event) => ({
  cards: [{ summary: 'Coverage on file: ' + event.input.prefetch.patient.id, indicator: 'info', source: { label: 'bench' } }],
});`;

const RESPONSE = {
  cards: [
    {
      uuid: '7a0f4a57-4d2b-4a0e-9a39-6f0b8a8a4c11',
      summary: 'Coverage on file: pat-a',
      indicator: 'info',
      source: { label: 'bench' },
    },
  ],
};

const BODY = JSON.stringify({
  hook: 'patient-view',
  hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
  context: { userId: 'Practitioner/prac-1', patientId: 'pat-a' },
  prefetch: {
    patient: {
      resourceType: 'Patient',
      id: 'pat-a',
      name: [{ family: 'Able', given: ['Ada'] }],
      birthDate: '1970-01-01',
    },
  },
});

const LUA = `
local tokens = {}
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  local total = tonumber(args[1])
  local i = 0
  for line in io.lines(args[2]) do
    if i % total == tid then table.insert(tokens, line) end
    i = i + 1
  end
  if #tokens == 0 then
    for line in io.lines(args[2]) do table.insert(tokens, line) end
  end
  local f = io.open(args[3], "r")
  body = f:read("*a")
  f:close()
end
function request()
  counter = counter + 1
  local token = tokens[((counter - 1) % #tokens) + 1]
  return wrk.format("POST", nil, { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end
`;

export interface CdsBenchRow {
  target: string;
  connections: number;
  p50Ms: number;
  p99Ms: number;
  rps: number;
  non2xx: number;
  mainCpuMs: number;
  totalCpuMs: number;
  /** Event-loop delay of the server during the run (blocking on the main thread). */
  loopP99Ms?: number;
  loopMaxMs?: number;
  /** Requests over the run plus the time to write the audit events still queued at its end. */
  sustainedRps?: number;
  auditBacklog?: number;
}

async function wrk(
  url: string,
  connections: number,
  seconds: number,
  files: { tokens: string; body: string; script: string },
): Promise<Omit<CdsBenchRow, 'target' | 'mainCpuMs' | 'totalCpuMs'>> {
  const { stdout } = await run('wrk', [
    '-t',
    String(Math.min(THREADS, connections)),
    '-c',
    String(connections),
    '-d',
    `${seconds}s`,
    '--latency',
    '-s',
    files.script,
    url,
    '--',
    String(Math.min(THREADS, connections)),
    files.tokens,
    files.body,
  ]);
  if (process.env.BENCH_WRK_RAW) console.log(stdout);
  return parseWrk(stdout, connections);
}

async function startFloor(): Promise<{ url: string; stop(): Promise<void> }> {
  const app = new Koa();
  const router = new Router();
  app.use(bodyParser());
  router.post('/floor', (ctx) => {
    ctx.body = RESPONSE;
  });
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/floor`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** CPU seconds (user + system) of a thread or process from /proc, or NaN where /proc is missing. */
async function cpuSeconds(statPath: string): Promise<number> {
  try {
    const stat = await readFile(statPath, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Main-thread and whole-server CPU (this process, minus nothing, plus the bot worker processes). */
async function cpuSnapshot(pids: number[]): Promise<{ main: number; total: number }> {
  const usage = process.cpuUsage();
  let total = (usage.user + usage.system) / 1e6;
  for (const pid of pids) total += await cpuSeconds(`/proc/${pid}/stat`);
  return { main: await cpuSeconds(`/proc/self/task/${process.pid}/stat`), total };
}

type Isolation = 'process' | 'in-process';

export async function benchCds(): Promise<CdsBenchRow[]> {
  // BENCH_ISOLATION=process|in-process and BENCH_CDS_TARGETS=access,jwt,floor narrow a run (for profiling).
  const modes = (process.env.BENCH_ISOLATION ?? 'process,in-process').split(',').filter(Boolean) as Isolation[];
  const targets = (process.env.BENCH_CDS_TARGETS ?? 'floor,access,jwt').split(',');
  const rows: CdsBenchRow[] = [];
  const floor = await startFloor();
  try {
    if (targets.includes('floor')) {
      const dir = await mkdtemp(path.join(tmpdir(), 'hookbot-bench-floor-'));
      try {
        const files = {
          script: path.join(dir, 'cds.lua'),
          body: path.join(dir, 'body.json'),
          tokens: path.join(dir, 'access.txt'),
        };
        await writeFile(files.script, LUA);
        await writeFile(files.body, BODY);
        await writeFile(files.tokens, 'none\n');
        for (let i = 0; i < 300; i++) await fetch(floor.url, { method: 'POST', body: BODY });
        if (WARMUP_S > 0) await wrk(floor.url, WARMUP_CONNECTIONS, WARMUP_S, files);
        for (const connections of CONNECTIONS) {
          const cpu = await cpuSnapshot([]);
          const r = await wrk(floor.url, connections, DURATION_S, files);
          rows.push({ target: 'floor (bare Koa)', ...r, ...(await cpuPerRequest(cpu, [], r)) });
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    for (const mode of modes) rows.push(...(await benchMode(mode, targets)));
  } finally {
    await floor.stop();
  }
  print(rows);
  return rows;
}

async function cpuPerRequest(
  before: { main: number; total: number },
  pids: number[],
  r: { rps: number },
): Promise<{ mainCpuMs: number; totalCpuMs: number }> {
  const after = await cpuSnapshot(pids);
  const requests = r.rps * DURATION_S;
  return {
    mainCpuMs: ((after.main - before.main) * 1000) / requests,
    totalCpuMs: ((after.total - before.total) * 1000) / requests,
  };
}

async function benchMode(mode: Isolation, targets: string[]): Promise<CdsBenchRow[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hookbot-bench-cds-'));
  // HOOKBOT_BENCH_STORE=postgres measures the production store (PostgreSQL and Redis) instead of the embedded one.
  const production = process.env.HOOKBOT_BENCH_STORE === 'postgres';
  const t = await startTestServer({
    store: production ? 'postgres' : 'pglite',
    redis: production,
    env: {
      HOOKBOT_BOT_ISOLATION: mode,
      ...(process.env.HOOKBOT_BOT_CONTEXTS ? { HOOKBOT_BOT_CONTEXTS: process.env.HOOKBOT_BOT_CONTEXTS } : {}),
      ...(process.env.HOOKBOT_PGLITE_PRIORITY ? { HOOKBOT_PGLITE_PRIORITY: process.env.HOOKBOT_PGLITE_PRIORITY } : {}),
    },
  });
  try {
    const token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const admin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const bot = await request<{ id: string }>(`${t.url}/fhir/R4/Bot`, {
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
    await request(`${t.url}/fhir/R4/Bot/${bot.body.id}/$deploy`, { method: 'POST', token, json: { code: BOT } });
    const serviceUrl = `${t.url}/cds-services/${bot.body.id}`;

    const issuer = `https://ehr.bench.example.org/${randomUUID()}`;
    const { privateKey, publicKey } = await generateKeyPair(JWT_ALG);
    const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: JWT_ALG };
    const client = await request(`${t.url}/admin/projects/${t.demo.projectId}/clients`, {
      method: 'POST',
      token: admin,
      json: { name: 'bench EHR', issuer, jwks: { keys: [jwk] } },
    });
    if (client.status !== 201) throw new Error(`client registration failed: ${JSON.stringify(client.body)}`);

    const jwtCount = targets.includes('jwt') ? JWT_COUNT : 200;
    process.stdout.write(`[${mode}] signing ${jwtCount} unique client JWTs (${JWT_ALG})...\n`);
    const now = Math.floor(Date.now() / 1000);
    const sign = () =>
      new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: JWT_ALG, typ: 'JWT', kid: 'bench-1' })
        .setIssuer(issuer)
        .setAudience(serviceUrl)
        .setIssuedAt(now)
        .setExpirationTime(now + 900)
        .sign(privateKey);
    const jwts: string[] = [];
    // In batches: WebCrypto signs on libuv's threads, so both cores work (RSA signing is ~350 µs a JWT).
    while (jwts.length < jwtCount) {
      jwts.push(...(await Promise.all(Array.from({ length: Math.min(64, jwtCount - jwts.length) }, sign))));
    }
    const files = {
      script: path.join(dir, 'cds.lua'),
      body: path.join(dir, 'body.json'),
      access: path.join(dir, 'access.txt'),
    };
    await writeFile(files.script, LUA);
    await writeFile(files.body, BODY);
    await writeFile(files.access, `${token}\n`);
    // A few JWTs warm the JWT path; the rest are split between the two JWT runs.
    const warmJwts = jwts.splice(0, 200);
    const perRun = Math.floor(jwts.length / CONNECTIONS.length);

    // Warm: compile the bot, fill every cache (Bot, code, settings, keys), JIT the handlers.
    const warm = async (auth: string) => {
      const res = await fetch(serviceUrl, {
        method: 'POST',
        headers: { Authorization: `Bearer ${auth}`, 'Content-Type': 'application/json' },
        body: BODY,
      });
      if (res.status !== 200) throw new Error(`warm-up call failed: ${res.status} ${await res.text()}`);
    };
    for (let i = 0; i < 300; i++) await warm(token);
    for (const jwt of warmJwts) await warm(jwt);
    if (WARMUP_S > 0) {
      process.stdout.write(`[${mode}] warming up under load for ${WARMUP_S} s...\n`);
      const warmup = await wrk(serviceUrl, WARMUP_CONNECTIONS, WARMUP_S, { ...files, tokens: files.access });
      if (warmup.non2xx > 0) throw new Error(`the warm-up load had ${warmup.non2xx} non-2xx answers`);
    }

    const runtime = t.server.services.runtime;
    const pids = () => runtime.stats().pids.filter((pid) => pid !== process.pid);
    const rows: CdsBenchRow[] = [];
    const measure = async (target: string, connections: number, tokens: string) => {
      await t.server.services.audit.flush();
      const cpu = await cpuSnapshot(pids());
      const loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      const r = await profiled(`${mode}-${target}-${connections}`, () =>
        wrk(serviceUrl, connections, DURATION_S, { ...files, tokens }),
      );
      loop.disable();
      // Audit events still queued when the run ends are written after it; their time and CPU belong to it.
      const backlog = t.server.services.audit.pending;
      const flushStarted = performance.now();
      await t.server.services.audit.flush();
      const flushS = (performance.now() - flushStarted) / 1000;
      rows.push({
        target: `${target} [${mode}]`,
        ...r,
        sustainedRps: (r.rps * DURATION_S) / (DURATION_S + flushS),
        auditBacklog: backlog,
        ...(await cpuPerRequest(cpu, pids(), r)),
        loopP99Ms: loop.percentile(99) / 1e6,
        loopMaxMs: loop.max / 1e6,
      });
    };
    for (const [c, connections] of CONNECTIONS.entries()) {
      const jwtFile = path.join(dir, `jwts-${connections}.txt`);
      await writeFile(jwtFile, jwts.slice(c * perRun, (c + 1) * perRun).join('\n') + '\n');
      if (targets.includes('access')) await measure('cds, access token', connections, files.access);
      if (targets.includes('jwt')) await measure('cds, client JWT', connections, jwtFile);
    }
    return rows;
  } finally {
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function print(rows: CdsBenchRow[]): void {
  const floorOf = (connections: number) =>
    rows.find((r) => r.connections === connections && r.target.startsWith('floor'));
  const columns: [string, number, (r: CdsBenchRow) => string][] = [
    ['target', -36, (r) => r.target],
    ['conns', 5, (r) => String(r.connections)],
    ['p50 ms', 8, (r) => r.p50Ms.toFixed(2)],
    ['p99 ms', 8, (r) => r.p99Ms.toFixed(2)],
    ['req/s', 7, (r) => r.rps.toFixed(0)],
    ['sustained', 10, (r) => (r.sustainedRps === undefined ? '-' : r.sustainedRps.toFixed(0))],
    ['vs floor', 10, (r) => floorRatio(r)],
    ['main cpu', 9, (r) => r.mainCpuMs.toFixed(3)],
    ['total cpu', 10, (r) => r.totalCpuMs.toFixed(3)],
    [
      'loop p99/max',
      13,
      (r) => (r.loopP99Ms === undefined ? '-' : `${r.loopP99Ms.toFixed(1)}/${r.loopMaxMs?.toFixed(0)}`),
    ],
    ['backlog', 8, (r) => (r.auditBacklog === undefined ? '-' : String(r.auditBacklog))],
    ['non-2xx', 8, (r) => String(r.non2xx)],
  ];
  const floorRatio = (r: CdsBenchRow): string => {
    const f = floorOf(r.connections);
    return r.target.startsWith('floor') || !f || !r.rps ? '-' : `${(f.rps / r.rps).toFixed(1)}x`;
  };
  const cell = (text: string, width: number) => (width < 0 ? text.padEnd(-width) : text.padStart(width));
  const lines = [
    `wrk ${THREADS} threads, ${DURATION_S} s per run after ${WARMUP_S} s of unmeasured load per server, warm POST with prefetch supplied (p50/p99 from wrk --latency)`,
    'sustained = requests / (run + writing the audit events still queued at its end); cpu = ms per request of the',
    "server's main thread (main) and of the server process plus bot worker processes (total); loop = event-loop delay",
    '[process] is the default bot isolation (HOOKBOT_BOT_ISOLATION); [in-process] is the opt-in mode',
    columns.map(([h, w]) => cell(h, w)).join(' '),
    ...rows.map((r) => columns.map(([, w, f]) => cell(f(r), w)).join(' ')),
  ];
  const check = (target: string) => {
    const four = rows.find((r) => r.target === target && r.connections === 4);
    const many = rows.find((r) => r.target === target && r.connections === 32);
    // A non-2xx answer (a JWT list that ran out and was replayed, say) voids the run.
    const ok =
      four &&
      many &&
      four.non2xx + many.non2xx === 0 &&
      four.p50Ms < 3 &&
      four.p99Ms < 10 &&
      (many.sustainedRps ?? many.rps) >= 800;
    return `${target}: ${ok ? 'meets' : 'MISSES'} the targets (4 conns p50 < 3 ms, p99 < 10 ms; 32 conns ≥ 800/s sustained; no errors)`;
  };
  for (const target of new Set(rows.map((r) => r.target))) if (!target.startsWith('floor')) lines.push(check(target));
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchCds();
  process.exit(0);
}
