/**
 * The bounded set of bot isolates (README, "Design"): per bot a group of isolates for its latest version and memory
 * limit, grown on demand up to `maxPerBot` so that one busy bot can use several cores; groups evicted least recently
 * used first; older versions retired once their calls in flight finish; every isolate counted against `maxIsolates`
 * and its owner's `maxPerOwner` (see `makeRoom`).
 */
import type { BotIsolate, ContextPolicy, DeathReason } from './bot-isolate.js';
import type { BotCode, CompileCheck } from './types.js';

interface Slot {
  bot: BotIsolate;
  ready: Promise<CompileCheck>;
}

interface Group {
  /** Runs without an owner share the `undefined` owner, which has no limit of its own. */
  owner: string | undefined;
  version: string;
  memoryMb: number;
  policy: ContextPolicy;
  slots: Slot[];
  /** When the bot was last called, on the pool's own clock (least recently used groups are evicted first). */
  lastUsed: number;
}

const MAX_REMEMBERED_FAILURES = 256;

/** `owner-full`: the owner holds all the isolates it may and none of them is idle. */
export type Acquired = { bot: BotIsolate } | { compile: CompileCheck } | 'overloaded' | 'owner-full';

export class IsolatePool {
  private readonly groups = new Map<string, Group>();
  private readonly retiring = new Set<BotIsolate>();
  private readonly failures = new Map<string, CompileCheck>();
  private live = 0;
  private clock = 0;

  constructor(
    private readonly maxIsolates: number,
    private readonly maxPerBot: number,
    private readonly maxPerOwner: number,
    private readonly create: (code: BotCode, memoryMb: number, policy: ContextPolicy) => BotIsolate,
    private readonly disposed: (reason: DeathReason) => void,
  ) {}

  get size(): number {
    return this.live + this.retiring.size;
  }

  /** Reserves one of the bot's isolates for one call (`release` it afterwards), creating one if needed. */
  async acquire(code: BotCode, memoryMb: number, policy: ContextPolicy, owner: string | undefined): Promise<Acquired> {
    const failureKey = `${code.botId}\n${code.version}`;
    const failure = this.failures.get(failureKey);
    if (failure) return { compile: failure };
    let group = this.groups.get(code.botId);
    if (group) for (const s of [...group.slots]) if (s.bot.dead) this.forget(s.bot);
    group = this.groups.get(code.botId);
    if (
      group &&
      (group.version !== code.version ||
        group.memoryMb !== memoryMb ||
        group.policy !== policy ||
        group.owner !== owner)
    ) {
      for (const s of [...group.slots]) this.retire(s.bot, 'retired');
      group = undefined;
    }
    if (group) group.lastUsed = ++this.clock;
    let slot = group ? leastBusy(group) : undefined;
    if (slot === undefined) {
      const room = this.makeRoom(owner);
      if (room !== true) return room;
      slot = this.add(code, memoryMb, policy, owner);
    } else if (
      slot.bot.inFlight > 0 &&
      (group?.slots.length ?? 0) < this.maxPerBot &&
      this.size < this.maxIsolates &&
      !this.ownerFull(owner)
    ) {
      // Grow only into free room: a busy bot does not evict other bots' isolates to get more of its own.
      slot = this.add(code, memoryMb, policy, owner);
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

  private add(code: BotCode, memoryMb: number, policy: ContextPolicy, owner: string | undefined): Slot {
    let group = this.groups.get(code.botId);
    if (!group) {
      group = { owner, version: code.version, memoryMb, policy, slots: [], lastUsed: ++this.clock };
      this.groups.set(code.botId, group);
    }
    const bot = this.create(code, memoryMb, policy);
    const slot = { bot, ready: bot.compile() };
    group.slots.push(slot);
    this.live++;
    return slot;
  }

  /** Live isolates (retiring ones not counted) of each owner holding any. */
  private ownedCounts(): Map<string | undefined, number> {
    const counts = new Map<string | undefined, number>();
    for (const g of this.groups.values()) counts.set(g.owner, (counts.get(g.owner) ?? 0) + g.slots.length);
    return counts;
  }

  private ownerFull(owner: string | undefined): boolean {
    if (owner === undefined) return false;
    let held = 0;
    for (const g of this.groups.values()) if (g.owner === owner) held += g.slots.length;
    return held >= this.maxPerOwner;
  }

  release(bot: BotIsolate): void {
    bot.inFlight--;
    if (bot.dead) this.forget(bot);
    else if (bot.late && bot.idle) this.retire(bot, 'retired');
    else if (bot.retired && bot.idle) this.dispose(bot, 'retired');
    else bot.prepareSpare();
  }

  /** The isolate died (timeout, memory, crash): the next call gets a new one. */
  died(bot: BotIsolate, reason: DeathReason): void {
    if (!bot.dead) this.disposed(reason);
    bot.kill(reason);
    this.forget(bot);
  }

  invalidate(botId: string): void {
    for (const key of this.failures.keys()) if (key.startsWith(`${botId}\n`)) this.failures.delete(key);
    const group = this.groups.get(botId);
    if (group) for (const slot of [...group.slots]) this.retire(slot.bot, 'retired');
  }

  disposeAll(): void {
    for (const group of this.groups.values()) for (const slot of group.slots) slot.bot.kill('retired');
    for (const bot of this.retiring) bot.kill('retired');
    this.groups.clear();
    this.retiring.clear();
    this.live = 0;
  }

  private retire(bot: BotIsolate, reason: DeathReason): void {
    bot.retired = true;
    this.detach(bot);
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
    this.detach(bot);
  }

  /** Removes the isolate from its bot's group (it stays counted while retiring). */
  private detach(bot: BotIsolate): void {
    const group = this.groups.get(bot.botId);
    if (!group) return;
    const i = group.slots.findIndex((s) => s.bot === bot);
    if (i < 0) return;
    group.slots.splice(i, 1);
    this.live--;
    if (group.slots.length === 0) this.groups.delete(bot.botId);
  }

  /**
   * Makes room for one more isolate of `owner`. An owner at its limit only replaces one of its own idle isolates.
   * When the pool is full, idle isolates are evicted from the owner's own bots first, then from the owners holding
   * the most isolates; least recently used bot first within an owner.
   */
  private makeRoom(owner: string | undefined): true | 'overloaded' | 'owner-full' {
    if (this.ownerFull(owner)) return this.evictIdle((g) => g.owner === owner) ? true : 'owner-full';
    if (this.size < this.maxIsolates) return true;
    if (this.evictIdle((g) => g.owner === owner)) return true;
    const held = this.ownedCounts();
    const others = [...held.keys()].filter((o) => o !== owner).sort((a, b) => (held.get(b) ?? 0) - (held.get(a) ?? 0));
    for (const other of others) {
      while (this.size >= this.maxIsolates && this.evictIdle((g) => g.owner === other));
      if (this.size < this.maxIsolates) return true;
    }
    return 'overloaded';
  }

  /** Disposes one idle isolate of the least recently used group that `which` selects; false if there is none. */
  private evictIdle(which: (g: Group) => boolean): boolean {
    const groups = [...this.groups.values()].filter(which).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const group of groups) {
      const slot = group.slots.find((s) => s.bot.idle);
      if (slot) {
        this.dispose(slot.bot, 'evicted');
        return true;
      }
    }
    return false;
  }
}

function leastBusy(group: Group): Slot | undefined {
  let best: Slot | undefined;
  for (const slot of group.slots) {
    if (best === undefined || slot.bot.inFlight < best.bot.inFlight) best = slot;
    if (best.bot.inFlight === 0) break;
  }
  return best;
}
