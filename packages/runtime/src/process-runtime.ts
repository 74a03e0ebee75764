/**
 * ProcessBotRuntime: the same API as BotRuntime, with the isolates in a supervised child process. Client calls are
 * relayed over IPC to the caller's host function. A crash, a catastrophic isolate error or a hung worker costs one
 * restart of the child, not the server: calls in flight in a dead child answer `crashed`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { effectiveLimits, maxMemoryMbOf } from './limits.js';
import { crashed, hostErrorInfo } from './output.js';
import type { ChildOptions, FromChild, HostErrorInfo, ToChild } from './process-protocol.js';
import type {
  BotCode,
  CompileCheck,
  HostCall,
  RunOptions,
  RunResult,
  RuntimeOptions,
  RuntimeStats,
  SandboxRuntime,
} from './types.js';

export interface ProcessRuntimeOptions extends RuntimeOptions {
  /** Extra time the parent waits beyond a call's timeout before it declares the worker hung and kills it. */
  hangGraceMs?: number;
  /**
   * Worker processes; each call goes to the least busy one. `maxIsolates` and the per-owner limits apply to each.
   * Default 1.
   */
  processes?: number;
  /**
   * Where the workers' own stderr goes (V8's report of a fatal out-of-memory, Node's warnings; bot output travels
   * over IPC). Default: this process's stderr.
   */
  onWorkerStderr?: (text: string) => void;
  /**
   * The user (and group) the workers run as. Code that escapes an isolate can read the files and the environment
   * (`/proc/<pid>/environ`) of every process of its own user, the server's included: a user of its own closes that.
   * Needs a server started as root (or with CAP_SETUID/CAP_SETGID).
   */
  user?: { uid: number; gid: number };
}

/**
 * The only variables of the parent's environment the worker gets: what Node and its locale and time zone need.
 * Everything else (database URLs, keys, client secrets, cloud credentials) stays out of the process that runs
 * untrusted code. `NODE_OPTIONS` is left out too: it can load code (`--require`, `--import`) into that process, and
 * the worker's flags are the runtime's own.
 */
export const WORKER_ENV_ALLOWED: readonly string[] = ['TZ', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'NODE_ICU_DATA'];

/** The worker's environment: the allowed variables of `parent` and the runtime's options. */
function workerEnv(parent: NodeJS.ProcessEnv, options: ChildOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of WORKER_ENV_ALLOWED) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  env['HOOKBOT_RUNTIME_OPTIONS'] = JSON.stringify(options);
  return env;
}

/** Bot versions whose code a worker holds; beyond this the worker is told to forget them all. */
const MAX_CODES_PER_WORKER = 512;

interface PendingRun {
  host: HostCall;
  started: number;
  resolve: (r: RunResult) => void;
  timer: NodeJS.Timeout;
}

class Worker {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly runs = new Map<number, PendingRun>();
  readonly checks = new Map<number, (c: CompileCheck) => void>();
  /** botId → the code key the worker holds for it (see `codeKey`). */
  readonly codes = new Map<string, string>();
  /** The worker's own figures, as of its last answer. */
  stats?: RuntimeStats;
  /** Calls that picked this worker and wait for it to start. */
  starting = 0;
  draining = false;
  exited = false;
  /** The process has started and said so. */
  answered = false;

  constructor(
    options: ChildOptions,
    onMessage: (w: Worker, m: FromChild) => void,
    onExit: (w: Worker) => void,
    onStderr?: (text: string) => void,
    user?: { uid: number; gid: number },
  ) {
    const source = import.meta.url.endsWith('.ts');
    const entry = new URL(source ? './process-worker.ts' : './process-worker.js', import.meta.url);
    this.proc = fork(entry, [], {
      execArgv: source
        ? ['--no-node-snapshot', '--conditions=hookbot-source', '--import', 'tsx']
        : ['--no-node-snapshot'],
      serialization: 'json',
      stdio: ['ignore', 'inherit', onStderr ? 'pipe' : 'inherit', 'ipc'],
      env: workerEnv(process.env, options),
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    this.ready = new Promise((resolve) => {
      this.proc.once('message', () => {
        this.answered = true;
        resolve();
      });
      this.proc.once('exit', () => resolve());
    });
    if (onStderr) this.proc.stderr?.on('data', (chunk: Buffer) => onStderr(chunk.toString()));
    this.proc.on('message', (m: FromChild) => onMessage(this, m));
    this.proc.on('exit', () => {
      this.exited = true;
      onExit(this);
    });
  }

  send(m: ToChild): boolean {
    if (this.exited || !this.proc.connected) return false;
    try {
      this.proc.send(m);
      return true;
    } catch {
      return false;
    }
  }

  get busy(): number {
    return this.runs.size + this.checks.size + this.starting;
  }
}

export class ProcessBotRuntime implements SandboxRuntime {
  /** The serving workers, one per slot; a slot is refilled on the next call after its worker ends or drains. */
  private readonly slots: (Worker | undefined)[];
  private readonly workers = new Set<Worker>();
  private nextId = 0;
  private restarts = 0;
  private closed = false;
  private readonly childOptions: ChildOptions;

  constructor(private readonly options: ProcessRuntimeOptions = {}) {
    this.slots = new Array<Worker | undefined>(Math.max(1, Math.floor(options.processes ?? 1))).fill(undefined);
    // The parent's own options stay here: the worker's are the runtime's, passed in its environment.
    const { onCatastrophicError: _c, hangGraceMs: _h, processes: _p, onWorkerStderr: _s, user: _u, ...child } = options;
    this.childOptions = child;
  }

  async check(code: string, filename?: string): Promise<CompileCheck> {
    const w = await this.worker();
    const id = ++this.nextId;
    return new Promise((resolve) => {
      w.checks.set(id, resolve);
      if (!w.send({ t: 'check', id, code, ...(filename ? { filename } : {}) })) {
        w.checks.delete(id);
        resolve({ ok: false, message: 'The bot runtime process is not available' });
      }
    });
  }

  async run(options: RunOptions): Promise<RunResult> {
    const started = performance.now();
    if (this.closed) return crashed('The bot runtime is closed', started);
    const w = await this.worker();
    const id = ++this.nextId;
    const { host, code, ...rest } = options;
    const key = codeKey(code);
    const known = w.codes.get(code.botId) === key;
    if (!known) {
      if (w.codes.size >= MAX_CODES_PER_WORKER) {
        w.codes.clear();
        w.send({ t: 'forget-code' });
      }
      w.codes.set(code.botId, key);
    }
    const { timeoutMs } = effectiveLimits(this.options.defaultLimits, maxMemoryMbOf(this.options), options.limits);
    return new Promise<RunResult>((resolve) => {
      // The child enforces the call's limits; this only catches a worker that stopped answering altogether.
      const timer = setTimeout(
        () => {
          w.runs.delete(id);
          resolve(crashed('The bot runtime process stopped responding and was restarted', started));
          this.kill(w);
        },
        timeoutMs + (this.options.hangGraceMs ?? 5000),
      );
      w.runs.set(id, { host, started, resolve, timer });
      if (!w.send({ t: 'run', id, botId: code.botId, ...(known ? {} : { code }), options: rest })) {
        clearTimeout(timer);
        w.runs.delete(id);
        resolve(crashed('The bot runtime process is not available', started));
      }
    });
  }

  invalidate(botId: string): void {
    for (const w of this.workers) w.send({ t: 'invalidate', botId });
  }

  stats(): RuntimeStats {
    const total: RuntimeStats = {
      isolates: 0,
      inFlight: 0,
      healthy: !this.closed,
      runs: 0,
      disposed: { timeout: 0, memory: 0, evicted: 0, retired: 0, crashed: 0 },
      contexts: { created: 0, reused: 0 },
      restarts: this.restarts,
      restarting: false,
      pids: [],
    };
    for (const w of this.workers) {
      total.inFlight += w.runs.size;
      // A drained worker still finishing its calls, or a replacement still starting: calls wait for a new process.
      if (w.draining || (this.restarts > 0 && !w.answered)) total.restarting = true;
    }
    for (const w of this.slots) {
      if (w === undefined) continue;
      if (w.proc.pid !== undefined) total.pids.push(w.proc.pid);
      const s = w.stats;
      if (s === undefined) continue;
      total.isolates += s.isolates;
      total.runs += s.runs;
      for (const k of Object.keys(total.disposed) as (keyof RuntimeStats['disposed'])[])
        total.disposed[k] += s.disposed[k];
      total.contexts.created += s.contexts.created;
      total.contexts.reused += s.contexts.reused;
    }
    return total;
  }

  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.workers].map(
      (w) => new Promise<void>((r) => (w.exited ? r() : w.proc.once('exit', () => r()))),
    );
    for (const w of this.workers) this.kill(w);
    await Promise.all(exits);
  }

  /** The least busy worker, starting any missing ones. */
  private async worker(): Promise<Worker> {
    let best: Worker | undefined;
    for (let i = 0; i < this.slots.length; i++) {
      let w = this.slots[i];
      if (!w || w.exited || w.draining) {
        w = new Worker(
          this.childOptions,
          (worker, m) => this.onMessage(worker, m),
          (worker) => this.onExit(worker),
          this.options.onWorkerStderr,
          this.options.user,
        );
        this.workers.add(w);
        this.slots[i] = w;
      }
      if (!best || w.busy < best.busy) best = w;
    }
    const w = best as Worker;
    w.starting++;
    await w.ready;
    w.starting--;
    return w;
  }

  private unslot(w: Worker): void {
    const i = this.slots.indexOf(w);
    if (i >= 0) this.slots[i] = undefined;
  }

  private onMessage(w: Worker, m: FromChild): void {
    switch (m.t) {
      case 'host': {
        const run = w.runs.get(m.id);
        if (!run) return;
        void relay(run.host, m.client, m.method, m.args).then((reply) =>
          w.send({ t: 'reply', id: m.id, reqId: m.reqId, ...reply }),
        );
        return;
      }
      case 'result': {
        const run = w.runs.get(m.id);
        if (!run) return;
        w.runs.delete(m.id);
        clearTimeout(run.timer);
        run.resolve(m.result);
        w.stats = m.stats;
        if (!m.stats.healthy) this.drain(w);
        this.retireIfDrained(w);
        return;
      }
      case 'stats':
        w.stats = m.stats;
        if (!m.stats.healthy) this.drain(w);
        return;
      case 'checked': {
        w.checks.get(m.id)?.(m.check);
        w.checks.delete(m.id);
        this.retireIfDrained(w);
        return;
      }
      case 'catastrophic':
        this.options.onCatastrophicError?.(m.message);
        this.drain(w);
        return;
      case 'ready':
        return;
    }
  }

  /** New calls go to a new worker; this one ends once its calls in flight have answered. */
  private drain(w: Worker): void {
    if (w.draining) return;
    w.draining = true;
    this.unslot(w);
    this.retireIfDrained(w);
  }

  private retireIfDrained(w: Worker): void {
    if (w.draining && w.busy === 0) this.kill(w);
  }

  private kill(w: Worker): void {
    this.unslot(w);
    if (!w.exited) w.proc.kill('SIGKILL');
  }

  private onExit(w: Worker): void {
    this.workers.delete(w);
    this.unslot(w);
    if (!this.closed) this.restarts++;
    const runs = [...w.runs.values()];
    w.runs.clear();
    for (const run of runs) {
      clearTimeout(run.timer);
      run.resolve(crashed('The bot runtime process ended during the call', run.started));
    }
    const checks = [...w.checks.values()];
    w.checks.clear();
    for (const resolve of checks) resolve({ ok: false, message: 'The bot runtime process ended' });
  }
}

function codeKey(code: BotCode): string {
  return `${code.version}\n${code.code.length}\n${code.filename ?? ''}\n${code.format ?? ''}`;
}

/** Runs a relayed client call; never rejects. */
async function relay(
  host: HostCall,
  client: string,
  method: string,
  args: unknown[],
): Promise<{ ok: true; value: unknown } | { ok: false; error: HostErrorInfo }> {
  try {
    const value = await host(client, method, args);
    return { ok: true, value: value === undefined ? undefined : JSON.parse(JSON.stringify(value)) };
  } catch (err) {
    return { ok: false, error: hostErrorInfo(err) };
  }
}
