import type ivm from 'isolated-vm';
import type { BotIsolate, Booted, InvokeArgs, Releasable, WarmContext } from './bot-isolate.js';
import { remaining, type ActiveCall } from './call.js';
import { DIRTY } from './prelude.js';

/** One invocation inside a BotIsolate; `close` must be called once it has settled (or been given up on). */
export class Session {
  private readonly owned: Releasable[] = [];
  private closed = false;
  private warm?: WarmContext;
  private createdWarm = false;
  /** The warm context could not be cleaned for this call: it is discarded, not returned. */
  private dirty = false;

  constructor(
    private readonly bot: BotIsolate,
    private readonly call: ActiveCall,
    private readonly args: InvokeArgs,
  ) {}

  start(): Promise<unknown> {
    const bot = this.bot;
    if (bot.policy === 'fresh') {
      bot.hooks.context(false);
      return this.inNewContext(false);
    }
    const warm = bot.takeWarm();
    bot.hooks.context(typeof warm === 'object');
    // Every warm context is busy: this call gets one of its own, released afterwards.
    if (warm === undefined) return this.inNewContext(false);
    if (warm === 'new') {
      this.createdWarm = true;
      return this.inNewContext(true);
    }
    this.warm = warm;
    warm.uses++;
    this.call.hb = warm.hb;
    if (bot.policy === 'warm') return bot.callRun(this.call, warm.hb, undefined, this.args);
    return this.runSealed(warm).then((out) => {
      if (out !== DIRTY) return out;
      // Nothing of this call ran yet: it starts again in a new context.
      this.dirty = true;
      return this.inNewContext(false);
    });
  }

  /** Releases what this invocation holds; `keepWarm` returns a warm context to the free list. */
  close(keepWarm: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (this.bot.policy !== 'fresh') this.bot.returnWarm(this.warm, keepWarm && !this.dirty, this.createdWarm);
    this.releaseOwned();
  }

  /**
   * A sealed context evaluates an ES-module bot afresh for each call, after the earlier call's globals are gone (its
   * top level must not see them either); a CommonJS one is re-run by the prelude's `run`, which cleans up first.
   */
  private async runSealed(context: Booted): Promise<unknown> {
    const bot = this.bot;
    let ns: ivm.Reference | undefined;
    if (bot.format === 'module') {
      const clean: unknown = await context.hb.apply(undefined, ['reset', this.call.callId], {
        result: { copy: true },
        timeout: remaining(this.call.deadline),
      });
      if (clean !== true) return DIRTY;
      ns = await bot.loadModule(context.context, this.call, (r) => this.own(r));
    }
    if (this.closed) throw new Error('Invocation ended');
    return bot.callRun(this.call, context.hb, ns, this.args);
  }

  /** Boots a context (or takes the spare) and runs the call in it; `keep` makes it this call's new warm context. */
  private async inNewContext(keep: boolean): Promise<unknown> {
    const bot = this.bot;
    // Warm contexts own their context and dispatcher until discarded; the others are released after the call.
    const kept: Releasable[] = [];
    const track = keep ? (r: Releasable) => kept.push(r) : (r: Releasable) => this.own(r);
    const spare = bot.policy === 'fresh' ? await bot.takeSpare() : undefined;
    if (spare) {
      track(spare.context);
      track(spare.hb);
    }
    const { context, hb } = spare ?? (await bot.boot(this.call, track, keep && bot.policy === 'sealed'));
    if (this.closed) {
      if (!bot.isolate.isDisposed) for (const r of kept.reverse()) r.release();
      throw new Error('Invocation ended');
    }
    if (keep) this.warm = { context, hb, uses: 1 };
    const ns = bot.format === 'module' ? await bot.loadModule(context, this.call, (r) => this.own(r)) : undefined;
    if (this.closed) throw new Error('Invocation ended');
    this.call.hb = hb;
    const defined = bot.defineBot(context, this.call);
    const out = bot.callRun(this.call, hb, ns, this.args);
    // Awaited together: a failure of either is the call's outcome, and neither rejects unhandled.
    return defined ? Promise.all([defined, out]).then(([, value]) => value) : out;
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
