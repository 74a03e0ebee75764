/**
 * Bot runtime overhead: median, p99 and throughput of one bot invocation for
 *   (a) the handler called directly in process (no isolation at all),
 *   (b) BotRuntime.run (isolated-vm: sealed reused contexts, the default; a fresh context per call; the trusted
 *       warm-context mode; and ProcessBotRuntime, the same engine in a supervised child process with client calls
 *       relayed over IPC),
 *   (c) `POST /fhir/R4/Bot/{id}/$execute` through HTTP on a real server (wrk; once per isolation mode; see
 *       runtime-http.ts),
 *   (d) a Node `vm` runner in Medplum's style (runInNewContext per call; not a security boundary),
 * for a trivial bot and for a bot doing ten `medplum.readResource` calls against an in-memory host.
 * Run: `npm run bench -- runtime` or
 * `node --no-node-snapshot --conditions=hookbot-source --import tsx -e "import('./bench/runtime.ts').then(m=>m.benchRuntime())"`.
 */
import vm from 'node:vm';
import { BotRuntime, ProcessBotRuntime, type HostCall } from '@hookbot/runtime';
import { startHttpTargets } from './runtime-http.js';

interface Measured {
  p50: number;
  p99: number;
  rps: number;
  non2xx?: number;
}

interface Variant {
  name: string;
  call?: (event: { n: number }) => Promise<unknown>;
  /** Measures itself (the HTTP rows, driven by wrk). */
  measure?: () => Promise<Measured>;
}

interface BotCase {
  name: string;
  code: string;
}

const BOTS: BotCase[] = [
  { name: 'trivial', code: `exports.handler = async (medplum, event) => ({ ok: true, n: event.n });` },
  {
    name: '10 reads',
    code: `exports.handler = async (medplum, event) => {
      const names = [];
      for (let i = 0; i < 10; i++) names.push((await medplum.readResource('Patient', 'p' + i)).name);
      return { n: event.n, names };
    };`,
  },
];

const PATIENTS = new Map(
  Array.from({ length: 10 }, (_, i) => [`p${i}`, { resourceType: 'Patient', id: `p${i}`, name: `n${i}` }]),
);

const host: HostCall = async (_client, method, args) => {
  if (method !== 'readResource') throw new Error('unsupported');
  const found = PATIENTS.get(String(args[1]));
  if (!found) throw new Error('not found');
  return found;
};

/** The same client surface as in the sandbox, as plain host objects. */
const directClient = {
  readResource: (type: string, id: string) => host('medplum', 'readResource', [type, id]),
};

type Handler = (medplum: unknown, event: unknown) => Promise<unknown>;

function loadDirect(code: string): Handler {
  const module = { exports: {} as { handler?: Handler } };
  new Function('exports', 'module', code)(module.exports, module);
  const handler = module.exports.handler;
  if (!handler) throw new Error('no handler');
  return handler;
}

/** Medplum-style: a new `vm` context per call with the client injected. Not a sandbox. */
function vmRunner(code: string): NonNullable<Variant['call']> {
  const wrapped = `(function (exports, module) {${code}\n})(module.exports, module); module.exports.handler(medplum, event);`;
  return async (event) => {
    const module = { exports: {} };
    return await vm.runInNewContext(wrapped, { module, medplum: directClient, event, console }, { timeout: 10_000 });
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}

async function measure(call: NonNullable<Variant['call']>, samples: number, concurrency: number): Promise<Measured> {
  for (let i = 0; i < 200; i++) await call({ n: i });
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await call({ n: i });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  let next = 0;
  const total = samples * 2;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await call({ n: next });
      }
    }),
  );
  const rps = total / ((performance.now() - started) / 1000);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), rps };
}

export async function benchRuntime(): Promise<void> {
  const samples = Number(process.env['BENCH_SAMPLES'] ?? 2000);
  const concurrency = 8;
  const runtime = new BotRuntime();
  const fresh = new BotRuntime({ contexts: 'fresh' });
  const child = new ProcessBotRuntime();
  const children = new ProcessBotRuntime({ processes: 2 });
  const http = await startHttpTargets();
  process.stdout.write(
    `bot runtime, ${samples} sequential calls per row after 200 warm-up calls; throughput with ${concurrency} calls in flight\n`,
  );
  process.stdout.write(
    `(c): wrk, median/p99 with 1 connection, calls/s with ${concurrency} connections\n` +
      `${'bot'.padEnd(9)}${'variant'.padEnd(46)}${'median ms'.padStart(10)}${'p99 ms'.padStart(9)}${'calls/s'.padStart(10)}\n`,
  );
  try {
    for (const b of BOTS) {
      const code = { botId: `bench-${b.name}`, version: '1', code: b.code };
      const direct = loadDirect(b.code);
      const variants: Variant[] = [
        { name: '(a) handler called directly in process', call: (event) => direct(directClient, event) },
        { name: '(b) BotRuntime.run, sealed context', call: (event) => checked(runtime.run({ code, event, host })) },
        { name: '(b) BotRuntime.run, fresh context', call: (event) => checked(fresh.run({ code, event, host })) },
        {
          name: '(b) BotRuntime.run, warm context (trusted)',
          call: (event) =>
            checked(runtime.run({ code: { ...code, botId: `${code.botId}-warm` }, event, host, reuseContext: true })),
        },
        {
          name: '(b) ProcessBotRuntime (child process, IPC)',
          call: (event) => checked(child.run({ code, event, host })),
        },
        {
          name: '(b) ProcessBotRuntime, 2 child processes',
          call: (event) => checked(children.run({ code, event, host })),
        },
        ...http.targets.map((t) => ({ name: t.name, measure: () => t.measure(b.code) })),
        { name: '(d) node:vm runInNewContext (Medplum style)', call: vmRunner(b.code) },
      ];
      const medians: Record<string, number> = {};
      for (const v of variants) {
        const m = v.measure
          ? await v.measure()
          : await measure(v.call ?? (async () => undefined), samples, concurrency);
        medians[v.name.slice(0, 3)] ??= m.p50;
        const errors = m.non2xx ? `  (${m.non2xx} non-2xx)` : '';
        process.stdout.write(
          `${b.name.padEnd(9)}${v.name.padEnd(46)}${m.p50.toFixed(3).padStart(10)}${m.p99.toFixed(3).padStart(9)}${Math.round(m.rps).toString().padStart(10)}${errors}\n`,
        );
      }
      const overhead = (medians['(b)'] ?? NaN) - (medians['(a)'] ?? NaN);
      process.stdout.write(
        `${b.name.padEnd(9)}sandbox overhead per call (b sealed − a), median: ${overhead.toFixed(3)} ms (target < 1 ms)\n`,
      );
    }
  } finally {
    await runtime.close();
    await fresh.close();
    await child.close();
    await children.close();
    await http.close();
  }
}

async function checked(p: Promise<{ ok: boolean; message?: string }>): Promise<unknown> {
  const r = await p;
  if (!r.ok) throw new Error(`bot failed: ${r.message ?? ''}`);
  return r;
}
