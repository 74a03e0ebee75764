/**
 * BotRuntime: runs untrusted bot code in isolated-vm with memory, CPU and wall-clock limits.
 * `run` never rejects; every failure is a typed `RunResult`. See README.md for the design and its trade-offs.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { BotIsolate, BotThrew, type ContextPolicy, type IsolateHooks } from './bot-isolate.js';
import { answer, deliver, endHostCalls, remaining, type ActiveCall, type Settled } from './call.js';
import { decodeOutput, LogTail, truncate, type Decoded } from './output.js';
import { HostSlots, OwnerGate } from './owner-gate.js';
import { IsolatePool } from './pool.js';
import { Session } from './session.js';
import { firstLine } from './source.js';
import type {
  CompileCheck,
  RunFailureKind,
  RunOptions,
  RunResult,
  RuntimeOptions,
  RuntimeStats,
  SandboxRuntime,
} from './types.js';
import { effectiveLimits, maxMemoryMbOf, type Limits } from './limits.js';

const CLIENT_NAME = /^[A-Za-z_$][\w$]{0,63}$/;
const OWNER_BUSY = "Too many of this owner's bots are running; try again later";

interface CallRecord extends ActiveCall {
  readonly owner: BotIsolate;
}

export class BotRuntime implements SandboxRuntime {
  private readonly pool: IsolatePool;
  private readonly owners: OwnerGate;
  private readonly calls = new Map<string, CallRecord>();
  private readonly defaults: Limits;
  private readonly maxMemoryMb: number;
  private readonly hooks: IsolateHooks;
  /** The context policy of untrusted bots. */
  private readonly contexts: 'sealed' | 'fresh';
  private closed = false;
  private healthy = true;
  private runs = 0;
  private readonly contextCounts = { created: 0, reused: 0 };
  private readonly disposed: RuntimeStats['disposed'] = { timeout: 0, memory: 0, evicted: 0, retired: 0, crashed: 0 };

  constructor(private readonly options: RuntimeOptions = {}) {
    this.maxMemoryMb = maxMemoryMbOf(options);
    this.defaults = effectiveLimits(options.defaultLimits, this.maxMemoryMb);
    this.contexts = options.contexts === 'fresh' ? 'fresh' : 'sealed';
    this.hooks = {
      send: this.onSend,
      log: (callId, level, message) => {
        if (typeof callId === 'string') this.calls.get(callId)?.logs.push(level, message);
      },
      context: (reused) => void this.contextCounts[reused ? 'reused' : 'created']++,
      catastrophic: (message) => {
        this.healthy = false;
        if (options.onCatastrophicError) options.onCatastrophicError(message);
        else process.stderr.write(`hookbot runtime: catastrophic isolate error: ${message}\n`);
      },
    };
    const maxWarm = Math.max(1, options.maxWarmContexts ?? 4);
    const maxIsolates = Math.max(1, options.maxIsolates ?? 64);
    const perOwner = Math.max(1, Math.floor(options.maxIsolatesPerOwner ?? maxIsolates / 4));
    this.owners = new OwnerGate(
      Math.max(1, Math.floor(options.maxRunsPerOwner ?? 2 * perOwner)),
      Math.max(0, options.ownerQueueMs ?? 1000),
      Math.max(1, Math.floor(options.maxHostCallsInFlightPerOwner ?? 16)),
    );
    this.pool = new IsolatePool(
      maxIsolates,
      Math.max(1, options.maxIsolatesPerBot ?? availableParallelism()),
      perOwner,
      (code, memoryMb, policy) => new BotIsolate(code, memoryMb, this.hooks, maxWarm, policy),
      (reason) => this.disposed[reason]++,
    );
  }

  async check(code: string, filename?: string): Promise<CompileCheck> {
    const bot = new BotIsolate(
      { botId: 'check', version: '0', code, ...(filename ? { filename } : {}) },
      64,
      this.hooks,
      0,
      this.contexts,
    );
    try {
      return await bot.compile();
    } finally {
      bot.kill('retired');
    }
  }

  async run(options: RunOptions): Promise<RunResult> {
    const started = performance.now();
    const limits = effectiveLimits(this.defaults, this.maxMemoryMb, options.limits);
    const logs = new LogTail(limits.maxLogBytes);
    const fail = (kind: RunFailureKind, message: string, line?: number): RunResult => ({
      ok: false,
      kind,
      message,
      ...(line !== undefined ? { line } : {}),
      logs: logs.toArray(),
      durationMs: performance.now() - started,
    });
    try {
      this.runs++;
      if (this.closed) return fail('crashed', 'The bot runtime is closed');
      const clients = options.clients ?? ['medplum'];
      if (!validClients(clients)) return fail('crashed', 'Invalid client names');
      let eventJson: string;
      try {
        eventJson = JSON.stringify(options.event ?? null) ?? 'null';
      } catch {
        return fail('crashed', 'The event is not JSON-serialisable');
      }
      const owner = options.owner;
      const ownerSlots = owner === undefined ? undefined : await this.owners.enter(owner);
      if (owner !== undefined && ownerSlots === undefined) return fail('overloaded', OWNER_BUSY);
      try {
        const policy: ContextPolicy = options.reuseContext === true ? 'warm' : this.contexts;
        const acquired = await this.pool.acquire(options.code, limits.memoryMb, policy, owner);
        if (acquired === 'overloaded') return fail('overloaded', 'Too many bots are running; try again later');
        if (acquired === 'owner-full') return fail('overloaded', OWNER_BUSY);
        if ('compile' in acquired) {
          return fail('compile', acquired.compile.message ?? 'The bot does not compile', acquired.compile.line);
        }
        const bot = acquired.bot;
        try {
          const decoded = await this.execute(bot, options, ownerSlots, clients, eventJson, limits, logs, started);
          const durationMs = performance.now() - started;
          if (decoded.ok)
            return { ok: true, result: decoded.result, logs: logs.toArray(), durationMs, cpuMs: decoded.cpuMs };
          return fail(decoded.kind, decoded.message, decoded.line);
        } finally {
          this.pool.release(bot);
        }
      } finally {
        if (owner !== undefined) this.owners.leave(owner);
      }
    } catch (err) {
      return fail('crashed', `The bot runtime failed: ${truncate(firstLine(errorMessage(err)), 200)}`);
    }
  }

  invalidate(botId: string): void {
    this.pool.invalidate(botId);
  }

  stats(): RuntimeStats {
    return {
      isolates: this.pool.size,
      inFlight: this.calls.size,
      healthy: this.healthy,
      runs: this.runs,
      disposed: { ...this.disposed },
      contexts: { ...this.contextCounts },
      restarts: 0,
      restarting: false,
      pids: [process.pid],
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pool.disposeAll();
    for (const call of this.calls.values()) call.settle({ error: new Error('The bot runtime is closed') });
  }

  private async execute(
    bot: BotIsolate,
    options: RunOptions,
    ownerSlots: HostSlots | undefined,
    clients: string[],
    eventJson: string,
    limits: Limits,
    logs: LogTail,
    started: number,
  ): Promise<(Decoded & { ok: false }) | { ok: true; result: unknown; cpuMs: number }> {
    let settle: (s: Settled) => void = () => undefined;
    const outcome = new Promise<Settled>((resolve) => (settle = resolve));
    const call: CallRecord = {
      callId: randomUUID(),
      owner: bot,
      host: options.host,
      clients: new Set(clients),
      logs,
      deadline: started + limits.timeoutMs,
      maxHostCalls: limits.maxHostCalls,
      hostCalls: 0,
      runSlots: new HostSlots(limits.maxHostCallsInFlight),
      ...(ownerSlots ? { ownerSlots } : {}),
      argsSent: 0,
      active: true,
      settle: (s) => settle(s),
    };
    this.calls.set(call.callId, call);
    const cpuBefore = cpuTimeOf(bot);
    const session = new Session(bot, call, {
      eventJson,
      clientsJson: JSON.stringify(clients),
      maxOutput: limits.maxOutputBytes,
      maxLog: limits.maxLogBytes,
      maxHostCalls: limits.maxHostCalls,
    });
    // The isolate's own `timeout` does not cover time spent awaiting promises: this watchdog does.
    const watchdog = setTimeout(() => {
      call.settle({ wallClock: true });
      this.pool.died(bot, 'timeout');
    }, remaining(call.deadline));
    session.start().then(
      (value) => call.settle({ value }),
      (error: unknown) => call.settle({ error }),
    );
    let keepWarm = false;
    try {
      const settled = await outcome;
      const cpuMs = Number(cpuTimeOf(bot) - cpuBefore) / 1e6;
      const decoded = this.classify(bot, call, settled, limits);
      // A warm context is reused only after a clean return from the handler, never after an interruption.
      keepWarm = 'value' in settled && (decoded.ok || (decoded.kind !== 'compile' && !decoded.fromTopLevel));
      return decoded.ok ? { ...decoded, cpuMs: Math.max(0, cpuMs) } : decoded;
    } finally {
      clearTimeout(watchdog);
      endHostCalls(call);
      this.calls.delete(call.callId);
      session.close(keepWarm);
    }
  }

  /**
   * Out of memory and out of time are read from the isolate's state and the clock; an error's text only tells them
   * apart once isolated-vm has in fact disposed the isolate or the call's time is up, since bot code can throw any
   * message (and disposing the isolate fails the bot's other calls in flight).
   */
  private classify(bot: BotIsolate, call: ActiveCall, settled: Settled, limits: Limits): Decoded {
    if ('wallClock' in settled) {
      return { ok: false, kind: 'timeout', message: `The bot did not finish within ${limits.timeoutMs} ms` };
    }
    if ('value' in settled) return decodeOutput(settled.value, limits.maxOutputBytes);
    const message = errorMessage(settled.error);
    // Disposed, and not by the host: isolated-vm disposes an isolate that reached its heap limit.
    if (bot.isolate.isDisposed && bot.dead === undefined && /memory limit/i.test(message)) {
      this.pool.died(bot, 'memory');
      return { ok: false, kind: 'memory', message: `The bot exceeded its memory limit of ${bot.memoryMb} MB` };
    }
    if (bot.dead || bot.isolate.isDisposed) {
      const reason = bot.dead ?? 'crashed';
      this.pool.died(bot, reason);
      if (reason === 'memory' || reason === 'timeout') {
        return {
          ok: false,
          kind: 'crashed',
          message: `The bot's sandbox was reset while this call ran (another call of this bot hit its ${reason} limit)`,
        };
      }
      return { ok: false, kind: 'crashed', message: "The bot's sandbox was reset while this call ran" };
    }
    if (settled.error instanceof BotThrew) {
      const { line } = settled.error;
      return { ok: false, kind: 'thrown', message: settled.error.message, ...(line ? { line } : {}) };
    }
    if (/Script execution timed out/.test(message) && bot.interrupted(call)) {
      return { ok: false, kind: 'timeout', message: `The bot did not finish within ${limits.timeoutMs} ms` };
    }
    return { ok: false, kind: 'crashed', message: `The sandbox failed: ${truncate(firstLine(message), 200)}` };
  }

  private readonly onSend: IsolateHooks['send'] = (owner, callId, reqId, client, method, argsJson) => {
    const call = typeof callId === 'string' ? this.calls.get(callId) : undefined;
    if (call === undefined || call.owner !== owner || !call.active) {
      owner.late = true;
      return;
    }
    if (typeof reqId !== 'number' || typeof client !== 'string' || typeof method !== 'string') return;
    if (typeof argsJson !== 'string') return;
    void answer(call, client, method, argsJson).then((tagged) => {
      if (tagged !== undefined && call.active) deliver(call, reqId, tagged);
      else owner.late = true;
    });
  };
}

function cpuTimeOf(bot: BotIsolate): bigint {
  try {
    return bot.isolate.isDisposed ? 0n : bot.isolate.cpuTime;
  } catch {
    return 0n;
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return 'Unknown error';
}

function validClients(clients: string[]): boolean {
  if (clients.length === 0 || clients.length > 16) return false;
  const seen = new Set<string>();
  for (const name of clients) {
    if (!CLIENT_NAME.test(name) || name === '__proto__' || seen.has(name)) return false;
    seen.add(name);
  }
  return true;
}
