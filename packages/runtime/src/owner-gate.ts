/**
 * Runs in flight per owner: at most `maxRuns` at once, the next ones waiting in order (a bounded number, for a
 * bounded time) for one to finish. Owners never wait for each other. An admitted run gets its owner's client-call
 * slots (`HostSlots`), shared by all of the owner's runs.
 */
interface Waiter {
  admit: (slots: HostSlots | undefined) => void;
  timer: NodeJS.Timeout;
}

interface OwnerState {
  running: number;
  queue: Waiter[];
  hostSlots: HostSlots;
}

export class OwnerGate {
  private readonly owners = new Map<string, OwnerState>();

  constructor(
    private readonly maxRuns: number,
    private readonly maxWaitMs: number,
    private readonly maxHostCalls: number,
  ) {}

  /**
   * Resolves with the owner's client-call slots once the run may start (call `leave` when it ends), `undefined` if
   * the owner stays too busy.
   */
  enter(owner: string): Promise<HostSlots | undefined> {
    let state = this.owners.get(owner);
    if (!state) {
      state = { running: 0, queue: [], hostSlots: new HostSlots(this.maxHostCalls) };
      this.owners.set(owner, state);
    }
    if (state.running < this.maxRuns) {
      state.running++;
      return Promise.resolve(state.hostSlots);
    }
    if (state.queue.length >= this.maxRuns || this.maxWaitMs <= 0) return Promise.resolve(undefined);
    const queue = state.queue;
    return new Promise<HostSlots | undefined>((resolve) => {
      const waiter: Waiter = {
        admit: resolve,
        timer: setTimeout(() => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          resolve(undefined);
        }, this.maxWaitMs),
      };
      queue.push(waiter);
    });
  }

  leave(owner: string): void {
    const state = this.owners.get(owner);
    if (!state) return;
    const next = state.queue.shift();
    if (next) {
      clearTimeout(next.timer);
      next.admit(state.hostSlots);
      return;
    }
    state.running--;
    // Kept while a client call of an ended run is still with the host, so the owner's runs always share one set.
    if (state.running <= 0 && state.hostSlots.idle) this.owners.delete(owner);
  }
}

/**
 * Client calls in flight across all of one owner's runs: at most `size` at once, the others waiting in order.
 * A run that ends has its waiting calls dropped (`drop`).
 */
export class HostSlots {
  private used = 0;
  private readonly waiting: { run: object; grant: (slot: boolean) => void }[] = [];

  constructor(private readonly size: number) {}

  get idle(): boolean {
    return this.used === 0 && this.waiting.length === 0;
  }

  /** Resolves `true` with a slot (give it back with `give`), or `false` if the run was dropped first. */
  take(run: object): Promise<boolean> {
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve(true);
    }
    return new Promise((grant) => this.waiting.push({ run, grant }));
  }

  /** The slot passes straight to the next waiting call, so a call arriving meanwhile cannot overtake it. */
  give(): void {
    const next = this.waiting.shift();
    if (next) next.grant(true);
    else this.used--;
  }

  drop(run: object): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const w = this.waiting[i];
      if (w?.run === run) {
        this.waiting.splice(i, 1);
        w.grant(false);
      }
    }
  }
}
