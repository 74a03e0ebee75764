/**
 * Runs in flight per owner: at most `maxRuns` at once, the next ones waiting in order (a bounded number, for a
 * bounded time) for one to finish. Owners never wait for each other.
 */
interface Waiter {
  admit: (admitted: boolean) => void;
  timer: NodeJS.Timeout;
}

interface OwnerState {
  running: number;
  queue: Waiter[];
}

export class OwnerGate {
  private readonly owners = new Map<string, OwnerState>();

  constructor(
    private readonly maxRuns: number,
    private readonly maxWaitMs: number,
  ) {}

  /** Resolves `true` once the run may start (call `leave` when it ends), `false` if the owner stays too busy. */
  enter(owner: string): Promise<boolean> {
    let state = this.owners.get(owner);
    if (!state) {
      state = { running: 0, queue: [] };
      this.owners.set(owner, state);
    }
    if (state.running < this.maxRuns) {
      state.running++;
      return Promise.resolve(true);
    }
    if (state.queue.length >= this.maxRuns || this.maxWaitMs <= 0) return Promise.resolve(false);
    const queue = state.queue;
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        admit: resolve,
        timer: setTimeout(() => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          resolve(false);
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
      next.admit(true);
      return;
    }
    state.running--;
    if (state.running <= 0) this.owners.delete(owner);
  }

  /** Runs in flight of the owner. */
  running(owner: string): number {
    return this.owners.get(owner)?.running ?? 0;
  }
}
