/**
 * The bounded set of bot isolates: one current isolate per bot (for its latest version and memory limit), kept in
 * least-recently-used order; older versions are retired and disposed as soon as their calls in flight finish.
 */
import type { BotIsolate, DeathReason } from './bot-isolate.js';
import type { BotCode, CompileCheck } from './types.js';

interface Slot {
  bot: BotIsolate;
  ready: Promise<CompileCheck>;
}

const MAX_REMEMBERED_FAILURES = 256;

export type Acquired = { bot: BotIsolate } | { compile: CompileCheck } | 'overloaded';

export class IsolatePool {
  private readonly current = new Map<string, Slot>();
  private readonly retiring = new Set<BotIsolate>();
  private readonly failures = new Map<string, CompileCheck>();

  constructor(
    private readonly maxIsolates: number,
    private readonly create: (code: BotCode, memoryMb: number) => BotIsolate,
    private readonly disposed: (reason: DeathReason) => void,
  ) {}

  get size(): number {
    return this.current.size + this.retiring.size;
  }

  /** Reserves the bot's isolate for one call (`release` it afterwards), creating and compiling it if needed. */
  async acquire(code: BotCode, memoryMb: number): Promise<Acquired> {
    const failureKey = `${code.botId}\n${code.version}`;
    const failure = this.failures.get(failureKey);
    if (failure) return { compile: failure };
    let slot = this.current.get(code.botId);
    if (slot && (slot.bot.version !== code.version || slot.bot.memoryMb !== memoryMb || slot.bot.dead)) {
      this.retire(slot.bot, 'retired');
      slot = undefined;
    }
    if (slot) {
      this.current.delete(code.botId);
      this.current.set(code.botId, slot);
    } else {
      if (!this.makeRoom()) return 'overloaded';
      const bot = this.create(code, memoryMb);
      slot = { bot, ready: bot.compile() };
      this.current.set(code.botId, slot);
    }
    const bot = slot.bot;
    bot.inFlight++;
    const check = await slot.ready;
    if (!check.ok) {
      bot.inFlight--;
      this.forget(bot);
      bot.kill('retired');
      if (this.failures.size >= MAX_REMEMBERED_FAILURES) this.failures.clear();
      this.failures.set(failureKey, check);
      return { compile: check };
    }
    return { bot };
  }

  release(bot: BotIsolate): void {
    bot.inFlight--;
    if (bot.dead) this.forget(bot);
    else if (bot.late && bot.idle) this.retire(bot, 'retired');
    else if (bot.retired && bot.idle) this.dispose(bot, 'retired');
  }

  /** The isolate died (timeout, memory, crash): the next call gets a new one. */
  died(bot: BotIsolate, reason: DeathReason): void {
    if (!bot.dead) this.disposed(reason);
    bot.kill(reason);
    this.forget(bot);
  }

  invalidate(botId: string): void {
    for (const key of this.failures.keys()) if (key.startsWith(`${botId}\n`)) this.failures.delete(key);
    const slot = this.current.get(botId);
    if (slot) this.retire(slot.bot, 'retired');
  }

  disposeAll(): void {
    for (const slot of this.current.values()) slot.bot.kill('retired');
    for (const bot of this.retiring) bot.kill('retired');
    this.current.clear();
    this.retiring.clear();
  }

  private retire(bot: BotIsolate, reason: DeathReason): void {
    bot.retired = true;
    const slot = this.current.get(bot.botId);
    if (slot?.bot === bot) this.current.delete(bot.botId);
    if (bot.idle) this.dispose(bot, reason);
    else this.retiring.add(bot);
  }

  private dispose(bot: BotIsolate, reason: DeathReason): void {
    this.forget(bot);
    if (!bot.dead) this.disposed(reason);
    bot.kill(reason);
  }

  private forget(bot: BotIsolate): void {
    this.retiring.delete(bot);
    const slot = this.current.get(bot.botId);
    if (slot?.bot === bot) this.current.delete(bot.botId);
  }

  /** Evicts idle isolates, least recently used first, until one more fits. */
  private makeRoom(): boolean {
    if (this.size < this.maxIsolates) return true;
    for (const [botId, slot] of this.current) {
      if (!slot.bot.idle) continue;
      this.current.delete(botId);
      this.dispose(slot.bot, 'evicted');
      if (this.size < this.maxIsolates) return true;
    }
    return false;
  }
}
