/** Public types of the bot runtime. The runtime knows nothing of HTTP, SQL, tenants or FHIR servers. */

export interface BotCode {
  botId: string;
  /** Anything that changes when the code changes (a version id or a hash). */
  version: string;
  code: string;
  filename?: string;
  /** Overrides detection: `module` compiles the code as an ES module, `commonjs` as a CommonJS function body. */
  format?: 'commonjs' | 'module';
}

export interface RunLimits {
  /** Heap limit of the bot's isolate, clamped to [8, RuntimeOptions.maxMemoryMb]. Default 128. */
  memoryMb?: number;
  /** Wall-clock limit of the whole invocation, async waits included. Default 10,000. */
  timeoutMs?: number;
  /** Largest JSON result in UTF-8 bytes. Default 1 MB. */
  maxOutputBytes?: number;
  /** Size of the log tail kept, in UTF-8 bytes. Default 10 KB. */
  maxLogBytes?: number;
  /** Most client calls (`medplum.readResource` …) one invocation may make. Default 1,000. */
  maxHostCalls?: number;
  /**
   * Most of one invocation's client calls the host works on at once; the others wait in the invocation, in order,
   * and are dropped unrun when it ends. Default 8.
   */
  maxHostCallsInFlight?: number;
}

/**
 * A call a bot made on one of its clients. May resolve with any JSON value or throw (Error or HookbotError-like);
 * the runtime never lets a rejection reach isolated-vm (issue #314): it answers the bot with an error instead.
 */
export type HostCall = (client: string, method: string, args: unknown[]) => Promise<unknown>;

export interface RunOptions {
  code: BotCode;
  /** JSON-serialisable; becomes the handler's second argument. */
  event: unknown;
  host: HostCall;
  /**
   * Whom the run is for (a tenant): the runs of one owner share its limits (`maxIsolatesPerOwner`,
   * `maxRunsPerOwner`), so one owner's burst neither takes every isolate nor evicts another owner's idle ones.
   * Runs without an owner are limited only by the runtime's totals.
   */
  owner?: string;
  /** Names of the client objects built in the sandbox; the first is also the handler's first argument. */
  clients?: string[];
  limits?: RunLimits;
  /**
   * Trusted, platform-authored code only: keep a warm context whose top level has already run, so globals and
   * prototype changes made by one call are visible to the next. See the README for the trade-off.
   */
  reuseContext?: boolean;
}

export interface LogLine {
  level: 'log' | 'info' | 'warn' | 'error';
  message: string;
  time: string;
}

export type RunFailureKind =
  'compile' | 'thrown' | 'timeout' | 'memory' | 'bad-output' | 'output-too-large' | 'crashed' | 'overloaded';

export type RunResult =
  | { ok: true; result: unknown; logs: LogLine[]; durationMs: number; cpuMs: number }
  | { ok: false; kind: RunFailureKind; message: string; line?: number; logs: LogLine[]; durationMs: number };

export interface CompileCheck {
  ok: boolean;
  message?: string;
  line?: number;
  column?: number;
}

export interface RuntimeOptions {
  /** Most isolates held at once (all bots together); idle ones are evicted least recently used first. */
  maxIsolates?: number;
  /**
   * Most isolates one bot may use at once: a bot gets another isolate when all of its isolates are busy, so its
   * calls can run on several cores. Default: the number of cores.
   */
  maxIsolatesPerBot?: number;
  /**
   * Most isolates the bots of one owner (`RunOptions.owner`) hold at once; at the limit an owner's new isolate
   * replaces one of its own idle ones, or the run answers `overloaded`. Default: a quarter of `maxIsolates`.
   */
  maxIsolatesPerOwner?: number;
  /**
   * Most runs of one owner in flight at once. Runs beyond it wait (at most `ownerQueueMs`, and at most as many as
   * this limit) for one to finish, else answer `overloaded`. Default: twice `maxIsolatesPerOwner`.
   */
  maxRunsPerOwner?: number;
  /** How long a run over its owner's limit waits for a slot. Default 1,000 ms. */
  ownerQueueMs?: number;
  /**
   * Most client calls of one owner's runs the host works on at once (each run also within its own
   * `maxHostCallsInFlight`); the others wait in their runs, in order. Default 16.
   */
  maxHostCallsInFlightPerOwner?: number;
  defaultLimits?: RunLimits;
  /** Server maximum for `RunLimits.memoryMb`. Default 512. */
  maxMemoryMb?: number;
  /** Reused contexts kept per isolate (sealed contexts and `reuseContext` runs). Default 4. */
  maxWarmContexts?: number;
  /**
   * Contexts of untrusted bots: `sealed` (default) reuses contexts that are locked down so that nothing of one call
   * reaches the next; `fresh` creates a new context for every call (slower; bots may then change intrinsics).
   */
  contexts?: 'sealed' | 'fresh';
  /**
   * isolated-vm reports that V8 lost control of an isolate. The runtime marks itself unhealthy (see `stats()`);
   * the embedding process should drain and restart.
   */
  onCatastrophicError?: (message: string) => void;
}

export interface RuntimeStats {
  isolates: number;
  inFlight: number;
  healthy: boolean;
  runs: number;
  disposed: { timeout: number; memory: number; evicted: number; retired: number; crashed: number };
  /** Contexts calls got: new ones, and reused (sealed or warm) ones. */
  contexts: { created: number; reused: number };
  /** Worker processes replaced after a crash, a catastrophic error or a hang (always 0 in process). */
  restarts: number;
  /** A worker process that ended or drains has a replacement that has not answered yet (always false in process). */
  restarting: boolean;
  /** The processes whose isolates run the bots: this one in process, else the serving workers. */
  pids: number[];
}

/**
 * What an embedder depends on: `BotRuntime` (isolates in this process) and `ProcessBotRuntime` (in supervised child
 * processes) both implement it. `run` never rejects; every failure is a typed `RunResult`.
 */
export interface SandboxRuntime {
  run(options: RunOptions): Promise<RunResult>;
  /** Compiles the code without running it. */
  check(code: string, filename?: string): Promise<CompileCheck>;
  /** Drops the bot's isolates and compiled code; calls in flight finish on the old code. */
  invalidate(botId: string): void;
  /** In a child process: the sum over its serving workers, as of their last answer. */
  stats(): RuntimeStats;
  close(): Promise<void>;
}
