/**
 * One isolate per bot version: the compiled prelude and bot are cached here, and every invocation gets a context as
 * the isolate's policy says. Disposing the isolate kills every context in it.
 */
import ivm from 'isolated-vm';
import { remaining, type ActiveCall } from './call.js';
import { PRELUDE_FILENAME, preludeFor } from './prelude.js';
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
  /** A call got a context: a reused one, or a new one. */
  context(reused: boolean): void;
}

export interface InvokeArgs {
  eventJson: string;
  clientsJson: string;
  maxOutput: number;
  maxLog: number;
  maxHostCalls: number;
}

export type DeathReason = 'timeout' | 'memory' | 'evicted' | 'retired' | 'crashed';

/**
 * How calls get contexts: `fresh`, a new one per call; `sealed`, reused contexts locked down for untrusted code
 * (README, "Sealed contexts"); `warm`, reused contexts of trusted platform code whose module was evaluated once.
 */
export type ContextPolicy = 'fresh' | 'sealed' | 'warm';

/**
 * A reused context serves at most this many calls, bounding whatever V8 keeps per context; a new one costs ~4 ms of
 * lockdown and cold JIT state (docs/decisions/sealed-context-reuse.md).
 */
const MAX_CONTEXT_USES = 10_000;

export type Releasable = { release(): void };

export interface Booted {
  context: ivm.Context;
  /** The prelude's dispatcher: the completion value of the prelude script, which contains no bot text. */
  hb: ivm.Reference;
}

export interface WarmContext extends Booted {
  uses: number;
}

/**
 * A spare context runs only the trusted prelude (bot text runs within a call). On any failure spares stop for the
 * isolate and calls boot their own context again, so the failure is reported to a call with its own limits.
 */
const SPARE_BOOT_TIMEOUT_MS = 250;

/**
 * isolated-vm's timer may end a run this much before the deadline it was given; an error arriving later than this
 * is taken as the end of the call's time whatever its text says.
 */
const TIMEOUT_SLACK_MS = 5;

/**
 * Bot code outside the prelude's catch threw (an ES module's top level; in fresh contexts, CommonJS text that
 * closes the wrapper early); carries only the bot's message (never a host stack) and its line.
 */
export class BotThrew extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }

  /**
   * What isolated-vm ended (the isolate disposed, the call's time up) passes through unchanged; anything else came
   * from bot code. Decided from the isolate's state and the clock, never from the message, which a bot can write.
   */
  static from(err: unknown, filename: string, interrupted: boolean): unknown {
    if (!(err instanceof Error) || interrupted) return err;
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
  readonly format: BotFormat;
  readonly filename: string;
  inFlight = 0;
  /** Replaced by a newer version or invalidated: disposed once idle. */
  retired = false;
  /** A bot touched its clients after its invocation ended; recycle the isolate once idle. */
  late = false;
  dead?: DeathReason;
  private prelude?: ivm.Script;
  private unsealed?: Promise<ivm.Script>;
  /** The wrapped CommonJS bot, run in each context right before its call; ES modules are compiled per context. */
  private script?: ivm.Script;
  private readonly code: string;
  private readonly sendCb: ivm.Callback;
  private readonly logCb: ivm.Callback;
  private readonly warmFree: WarmContext[] = [];
  private warmCount = 0;
  private spare?: Promise<Booted | undefined>;
  private noSpare = false;

  constructor(
    code: BotCode,
    readonly memoryMb: number,
    readonly hooks: IsolateHooks,
    private readonly maxWarm: number,
    readonly policy: ContextPolicy,
  ) {
    this.botId = code.botId;
    this.version = code.version;
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
        if (this.policy === 'sealed' && !(await this.isFunctionBody())) {
          return {
            ok: false,
            message:
              'The bot code closes its module wrapper early (a top-level `})`); bundle it as one complete module',
          };
        }
      } else {
        const probe = await this.isolate.compileModule(this.code, { filename: this.filename });
        const deps = probe.dependencySpecifiers;
        probe.release();
        if (deps.length > 0) {
          return { ok: false, message: `Bots cannot import modules (found '${deps[0]}'); bundle dependencies` };
        }
      }
      const prelude = await preludeFor(this.format === 'commonjs', this.policy === 'sealed');
      this.prelude = await this.isolate.compileScript(prelude, { filename: PRELUDE_FILENAME });
      return { ok: true };
    } catch (err) {
      return compileFailure(err, this.format === 'commonjs');
    }
  }

  /**
   * Whether the code parses on its own as a function body. The Function constructor parses the body apart from its
   * wrapper, so text such as `}); (function () {` is refused: a sealed bot's script then only evaluates a function
   * expression, and no bot text runs at the context's top level. Parsed, never run, in a context of its own.
   */
  private async isFunctionBody(): Promise<boolean> {
    const context = await this.isolate.createContext();
    try {
      const ok: unknown = await context.evalClosure(
        "try { new Function('exports', 'module', $0); return true; } catch (e) { return false; }",
        [this.code],
        { result: { copy: true }, timeout: 5000 },
      );
      return ok === true;
    } finally {
      if (!this.isolate.isDisposed) context.release();
    }
  }

  get idle(): boolean {
    return this.inFlight === 0;
  }

  /**
   * Whether isolated-vm, not the bot, ended what the call was running: the isolate is disposed (by the host, or by
   * isolated-vm when the heap limit was hit) or the call's time is up.
   */
  interrupted(call: ActiveCall): boolean {
    return this.isolate.isDisposed || performance.now() >= call.deadline - TIMEOUT_SLACK_MS;
  }

  kill(reason: DeathReason): void {
    this.dead ??= reason;
    this.spare = undefined;
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }

  /**
   * @internal used by Session: a new context with the prelude run, which yields the dispatcher. `sealed` is for
   * contexts that will be reused; a sealed isolate's one-call contexts skip the lockdown (about 4 ms).
   */
  async boot(call: ActiveCall, track: (r: Releasable) => void, sealed: boolean): Promise<Booted> {
    const prelude = sealed === (this.policy === 'sealed') ? this.prelude : await this.unsealedPrelude();
    if (prelude === undefined) throw new Error('Bot is not compiled');
    const context = await this.isolate.createContext();
    track(context);
    const hb = await prelude.run(context, { reference: true, timeout: remaining(call.deadline) });
    track(hb);
    return { context, hb };
  }

  private unsealedPrelude(): Promise<ivm.Script> {
    this.unsealed ??= preludeFor(this.format === 'commonjs', false).then((prelude) =>
      this.isolate.compileScript(prelude, { filename: PRELUDE_FILENAME }),
    );
    return this.unsealed;
  }

  /**
   * Prepares the next fresh context (a new context with the prelude run) in the background, so the next call
   * skips `boot`. Each context still serves exactly one call.
   */
  prepareSpare(): void {
    // Spares are only made for isolates that serve fresh-context calls.
    if (this.policy !== 'fresh' || this.spare || this.noSpare || this.isolate.isDisposed) return;
    const prelude = this.prelude;
    if (prelude === undefined || this.dead || this.retired || this.late) return;
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
      throw BotThrew.from(err, this.filename, this.interrupted(call));
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
    return this.script?.run(context, { timeout: remaining(call.deadline) }).catch((err: unknown) => {
      throw BotThrew.from(err, this.filename, this.interrupted(call));
    });
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
    if (warm && keep && warm.uses < MAX_CONTEXT_USES && !this.isolate.isDisposed) {
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
