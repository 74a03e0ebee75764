/**
 * The background runner of export jobs, one per instance: it runs one chunk at a time (of whichever runnable job
 * advanced least recently, so jobs take turns), then pauses as long as the chunk took, so an export takes at most
 * about half of the database's time and the event loop is free between chunks: hooks and reads run in the pauses
 * (`npm run bench -- store` measures hooks' p99 during an export). Its statements are sent as background work (on
 * PGlite with `HOOKBOT_PGLITE_PRIORITY=background` they wait for idle CPU).
 *
 * Durable: the cursor is in the job's row, so a job running when the server stopped is taken again when it starts
 * (its lease released at a graceful stop; after a crash, once the lease runs out) by this instance or any other
 * sharing the database. Idle, it polls every `idlePollMs` for jobs another instance queued and removes expired ones.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../../infra/database.js';
import type { Logger } from '../../infra/logger.js';
import { runChunk } from './chunk.js';
import { claimJob, failJob, releaseJob, removeExpired, type ClaimedJob } from './jobs.js';

export interface ExportWorkerOptions {
  chunkResources: number;
  retentionSeconds: number;
  idlePollMs?: number;
  /** The pause after a chunk, as a share of the time the chunk took (1: as long again). */
  pauseRatio?: number;
}

/** The message a failed job's client reads: never the error's own text, which may name internals. */
const FAILED = 'The export failed on the server: start it again';

export class ExportWorker {
  private closed = false;
  private running?: Promise<void>;
  private wakeUp?: () => void;
  private current?: ClaimedJob;
  private lastCleanup = 0;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    private readonly options: ExportWorkerOptions,
  ) {}

  start(): void {
    if (this.running || this.closed) return;
    this.running = this.loop();
  }

  /** A job was queued on this instance: run it without waiting for the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    const idlePollMs = this.options.idlePollMs ?? 5_000;
    const pauseRatio = this.options.pauseRatio ?? 1;
    while (!this.closed) {
      let worked = false;
      try {
        worked = await this.runOne(pauseRatio);
        if (!worked) await this.cleanup();
      } catch (err) {
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'export runner poll failed');
      }
      if (!worked) await this.idle(idlePollMs);
    }
  }

  /** Runs one chunk of the next job and pauses after it; false when there was nothing to run. */
  private async runOne(pauseRatio: number): Promise<boolean> {
    const job = await claimJob(this.db);
    if (!job) return false;
    this.current = job;
    const started = performance.now();
    try {
      const result = await runChunk(this.db, job, this.options.chunkResources, this.options.retentionSeconds);
      if (result === 'completed') this.log.info({ job: job.id, project: job.projectId }, 'export completed');
    } catch (err) {
      if (this.closed) return true; // the database is closing: the lease is released or runs out
      this.log.error({ err, job: job.id, project: job.projectId }, 'export chunk failed');
      await failJob(this.db, job, FAILED, this.options.retentionSeconds).catch(() => undefined);
    } finally {
      this.current = undefined;
    }
    await sleep(Math.max(1, (performance.now() - started) * pauseRatio));
    return true;
  }

  private async idle(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeUp = undefined;
  }

  private async cleanup(): Promise<void> {
    if (Date.now() - this.lastCleanup < 60_000) return;
    this.lastCleanup = Date.now();
    const removed = await removeExpired(this.db);
    if (removed > 0) this.log.info({ removed }, 'expired exports removed');
  }

  /** Stops after the chunk in flight, and gives its job back so that the next start (or another instance) resumes it. */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeUp?.();
    const job = this.current;
    await this.running;
    if (job) await releaseJob(this.db, job).catch(() => undefined);
  }
}
