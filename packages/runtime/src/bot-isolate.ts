/**
 * One isolate per bot version: the compiled prelude and bot are cached here, and every invocation gets a fresh
 * context (or, for trusted code, a warm one). Disposing the isolate kills every context in it.
 */
import ivm from 'isolated-vm';
import { remaining, type ActiveCall } from './call.js';
import { PRELUDE_CJS, PRELUDE_ESM, PRELUDE_FILENAME } from './prelude.js';
import { truncate } from './output.js';
import {
  compileFailure,
  detectFormat,
  filenameOf,
  firstLine,
  MAX_CODE_LENGTH,
  wrapCommonJs,
  type BotFormat,
} from './source.js';
import type { BotCode, CompileCheck } from './types.js';

export interface IsolateHooks {
  /** A bot asked for a client call (fire and forget: the answer comes back through `deliver`). */
  send(owner: BotIsolate, callId: unknown, reqId: unknown, client: unknown, method: unknown, argsJson: unknown): void;
  log(callId: unknown, level: unknown, message: unknown): void;
  catastrophic(message: string): void;
}

export interface InvokeArgs {
  eventJson: string;
  clientsJson: string;
  maxOutput: number;
  maxLog: number;
  maxHostCalls: number;
}

export type DeathReason = 'timeout' | 'memory' | 'evicted' | 'retired' | 'crashed';

type Releasable = { release(): void };

interface Booted {
  context: ivm.Context;
  /** The prelude's dispatcher: the completion value of the prelude script, which contains no bot text. */
  hb: ivm.Reference;
}

type WarmContext = Booted;

/**
 * A spare context runs only the trusted prelude (bot text runs within a call). On any failure spares stop for the
 * isolate and calls boot their own context again, so the failure is reported to a call with its own limits.
 */
const SPARE_BOOT_TIMEOUT_MS = 250;

/** An ES-module bot's top level threw; carries only the bot's message (never a host stack) and its line. */
export class BotThrew extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }

  /** Passes isolate failures (timeout, memory, disposal) through unchanged. */
  static from(err: unknown, filename: string): unknown {
    if (!(err instanceof Error) || /timed out|memory limit|disposed|abandoned/i.test(err.message)) return err;
    const stack = typeof err.stack === 'string' ? err.stack : '';
    const at = stack.indexOf(`${filename}:`);
    const line = at < 0 ? NaN : parseInt(stack.slice(at + filename.length + 1), 10);
    return new BotThrew(truncate(firstLine(err.message)), line > 0 ? line : undefined);
  }
}

export class BotIsolate {
  readonly isolate: ivm.Isolate;
  readonly botId: string;
  readonly version: string;
  readonly memoryMb: number;
  readonly format: BotFormat;
  readonly filename: string;
  inFlight = 0;
  /** Replaced by a newer version or invalidated: disposed once idle. */
  retired = false;
  /** A bot touched its clients after its invocation ended; recycle the isolate once idle. */
  late = false;
  dead?: DeathReason;
  private prelude?: ivm.Script;
  /** The wrapped CommonJS bot, run in each context right before its call; ES modules are compiled per context. */
  private script?: ivm.Script;
  private readonly code: string;
  private readonly sendCb: ivm.Callback;
  private readonly logCb: ivm.Callback;
  private readonly warmFree: WarmContext[] = [];
  private warmCount = 0;
  private spare?: Promise<Booted | undefined>;
  private noSpare = false;
  /** Spares are only made for isolates that serve fresh-context calls. */
  servesFresh = false;

  constructor(
    code: BotCode,
    memoryMb: number,
    hooks: IsolateHooks,
    private readonly maxWarm: number,
  ) {
    this.botId = code.botId;
    this.version = code.version;
    this.memoryMb = memoryMb;
    this.code = code.code;
    this.format = detectFormat(code);
    this.filename = filenameOf(code);
    this.isolate = new ivm.Isolate({ memoryLimit: memoryMb, onCatastrophicError: (m) => hooks.catastrophic(m) });
    this.sendCb = new ivm.Callback(
      (callId: unknown, reqId: unknown, client: unknown, method: unknown, argsJson: unknown) =>
        hooks.send(this, callId, reqId, client, method, argsJson),
      { ignored: true },
    );
    this.logCb = new ivm.Callback(
      (callId: unknown, level: unknown, message: unknown) => hooks.log(callId, level, message),
      { ignored: true },
    );
  }

  async compile(): Promise<CompileCheck> {
    if (this.code.length > MAX_CODE_LENGTH) return { ok: false, message: 'The bot code is too large' };
    try {
      if (this.format === 'commonjs') {
        this.script = await this.isolate.compileScript(wrapCommonJs(this.code), { filename: this.filename });
      } else {
        const probe = await this.isolate.compileModule(this.code, { filename: this.filename });
        const deps = probe.dependencySpecifiers;
        probe.release();
        if (deps.length > 0) {
          return { ok: false, message: `Bots cannot import modules (found '${deps[0]}'); bundle dependencies` };
        }
      }
      const prelude = this.format === 'commonjs' ? PRELUDE_CJS : PRELUDE_ESM;
      this.prelude = await this.isolate.compileScript(prelude, { filename: PRELUDE_FILENAME });
      return { ok: true };
    } catch (err) {
      return compileFailure(err, this.format === 'commonjs');
    }
  }

  get idle(): boolean {
    return this.inFlight === 0;
  }

  kill(reason: DeathReason): void {
    this.dead ??= reason;
    this.spare = undefined;
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }

  /** Starts an invocation; `close` must be called once it has settled (or been given up on). */
  open(call: ActiveCall, args: InvokeArgs, reuseContext: boolean): Session {
    return new Session(this, call, args, reuseContext);
  }

  /** @internal used by Session: a new context with the prelude run, which yields the dispatcher. */
  async boot(call: ActiveCall, track: (r: Releasable) => void): Promise<Booted> {
    const prelude = this.prelude;
    if (prelude === undefined) throw new Error('Bot is not compiled');
    const context = await this.isolate.createContext();
    track(context);
    const hb = await prelude.run(context, { reference: true, timeout: remaining(call.deadline) });
    track(hb);
    return { context, hb };
  }

  /**
   * Prepares the next fresh context (a new context with the prelude run) in the background, so the next call
   * skips `boot`. Each context still serves exactly one call.
   */
  prepareSpare(): void {
    if (
      !this.servesFresh ||
      this.spare ||
      this.noSpare ||
      this.dead ||
      this.retired ||
      this.late ||
      this.isolate.isDisposed
    )
      return;
    const prelude = this.prelude;
    if (prelude === undefined) return;
    this.spare = (async () => {
      let context: ivm.Context | undefined;
      try {
        context = await this.isolate.createContext();
        const hb = await prelude.run(context, { reference: true, timeout: SPARE_BOOT_TIMEOUT_MS });
        return { context, hb };
      } catch {
        this.noSpare = true;
        try {
          if (!this.isolate.isDisposed) context?.release();
        } catch {
          // the isolate went away meanwhile
        }
        return undefined;
      }
    })();
  }

  /** @internal The prepared context, if any (awaiting one still being prepared); the caller owns it. */
  async takeSpare(): Promise<Booted | undefined> {
    const spare = this.spare;
    if (spare === undefined) return undefined;
    this.spare = undefined;
    const booted = await spare;
    if (booted === undefined || this.isolate.isDisposed) return undefined;
    return booted;
  }

  /** @internal ES modules are instantiated per context; returns the namespace to pass to `run`. */
  async loadModule(context: ivm.Context, call: ActiveCall, track: (r: Releasable) => void): Promise<ivm.Reference> {
    const mod = await this.isolate.compileModule(this.code, { filename: this.filename });
    track(mod);
    await mod.instantiate(context, () => {
      throw new Error('Bots cannot import modules');
    });
    try {
      await mod.evaluate({ timeout: remaining(call.deadline) });
    } catch (err) {
      throw BotThrew.from(err, this.filename);
    }
    const ns = mod.namespace;
    track(ns);
    return ns;
  }

  /**
   * @internal Runs the CommonJS bot script (the binding of its factory, and any top-level text that closes the
   * wrapper early) in a booted context under the call's limits. It is queued right before the `run` that uses it:
   * an isolate runs its tasks in order (and a `run` without a bound factory would only find no handler).
   */
  defineBot(context: ivm.Context, call: ActiveCall): Promise<unknown> | undefined {
    return this.script?.run(context, { timeout: remaining(call.deadline) });
  }

  /** @internal `ns` is an ES-module bot's namespace. */
  callRun(call: ActiveCall, hb: ivm.Reference, ns: ivm.Reference | undefined, args: InvokeArgs): Promise<unknown> {
    return hb.apply(
      undefined,
      [
        'run',
        this.sendCb,
        this.logCb,
        ns?.derefInto(),
        call.callId,
        args.eventJson,
        args.clientsJson,
        this.filename,
        args.maxOutput,
        args.maxLog,
        args.maxHostCalls,
      ],
      { result: { promise: true, copy: true }, timeout: remaining(call.deadline) },
    );
  }

  /** @internal */
  takeWarm(): WarmContext | 'new' | undefined {
    const free = this.warmFree.pop();
    if (free) return free;
    if (this.warmCount >= this.maxWarm) return undefined;
    this.warmCount++;
    return 'new';
  }

  /** @internal */
  returnWarm(warm: WarmContext | undefined, keep: boolean, created: boolean): void {
    if (warm && keep && !this.isolate.isDisposed) {
      this.warmFree.push(warm);
      return;
    }
    if (warm || created) this.warmCount--;
    if (warm && !this.isolate.isDisposed) {
      warm.hb.release();
      warm.context.release();
    }
  }
}

/** One invocation inside a BotIsolate. */
export class Session {
  private readonly owned: Releasable[] = [];
  private closed = false;
  private warm?: WarmContext;
  private createdWarm = false;

  constructor(
    private readonly bot: BotIsolate,
    private readonly call: ActiveCall,
    private readonly args: InvokeArgs,
    private readonly reuseContext: boolean,
  ) {}

  async start(): Promise<unknown> {
    const bot = this.bot;
    const warm = this.reuseContext ? bot.takeWarm() : undefined;
    if (warm !== undefined && warm !== 'new') {
      this.warm = warm;
      this.call.hb = warm.hb;
      return bot.callRun(this.call, warm.hb, undefined, this.args);
    }
    // Warm contexts own their context and dispatcher until discarded; fresh ones are released after the call.
    const keep: Releasable[] = [];
    const track = warm === 'new' ? (r: Releasable) => keep.push(r) : (r: Releasable) => this.own(r);
    this.createdWarm = warm === 'new';
    if (warm === undefined) bot.servesFresh = true;
    const spare = warm === undefined ? await bot.takeSpare() : undefined;
    if (spare) {
      track(spare.context);
      track(spare.hb);
    }
    const { context, hb } = spare ?? (await bot.boot(this.call, track));
    if (this.closed) {
      if (!bot.isolate.isDisposed) for (const r of keep.reverse()) r.release();
      throw new Error('Invocation ended');
    }
    if (warm === 'new') this.warm = { context, hb };
    const ns = bot.format === 'module' ? await bot.loadModule(context, this.call, (r) => this.own(r)) : undefined;
    if (this.closed) throw new Error('Invocation ended');
    this.call.hb = hb;
    const defined = bot.defineBot(context, this.call);
    const out = bot.callRun(this.call, hb, ns, this.args);
    // Awaited together: a failure of either is the call's outcome, and neither rejects unhandled.
    return defined ? Promise.all([defined, out]).then(([, value]) => value) : out;
  }

  /** Releases what this invocation holds; `keepWarm` returns a warm context to the free list. */
  close(keepWarm: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (this.reuseContext) this.bot.returnWarm(this.warm, keepWarm, this.createdWarm);
    this.releaseOwned();
  }

  private own(r: Releasable): void {
    this.owned.push(r);
    if (this.closed) this.releaseOwned();
  }

  private releaseOwned(): void {
    if (this.bot.isolate.isDisposed) {
      this.owned.length = 0;
      return;
    }
    for (const r of this.owned.splice(0).reverse()) {
      try {
        r.release();
      } catch {
        // already released or the isolate went away meanwhile
      }
    }
  }
}
