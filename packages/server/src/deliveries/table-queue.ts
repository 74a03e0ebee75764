/**
 * Delivery jobs in a database table, for deployments without Redis: a job is written with the decision that caused
 * it (in the same transaction), a worker claims due jobs (`FOR UPDATE SKIP LOCKED`, so instances sharing a database
 * never send one twice at once), and a failed attempt is put back with exponential backoff. A job claimed by an
 * instance that died is claimed again once its lock expires, so nothing pending is lost across a restart. An idle
 * worker does not poll at the short interval: it sleeps until the next retry or expiring lock the table holds (at most
 * `IDLE_POLL_MS`), except just after this instance added jobs, whose transaction may commit after the wake-up.
 */
import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import {
  attemptDelivery,
  backoffMs,
  type AttemptListener,
  type DeliveryHandler,
  type DeliveryJob,
  type DeliveryQueue,
  type RetryPolicy,
} from './jobs.js';

const LOCK_SECONDS = 60;
const BATCH = 10;
/** The longest sleep with nothing due: how late another instance's jobs, or a dead instance's, may be taken over. */
const IDLE_POLL_MS = 10_000;

interface JobRow {
  id: string;
  project_id: string;
  target_kind: 'subscription' | 'callback';
  target_id: string;
  body: unknown;
  attempts: number;
}

export class TableDeliveryQueue implements DeliveryQueue {
  readonly kind = 'table' as const;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private closed = false;
  /** When this instance last added jobs (`Date.now()`). */
  private lastAdded = Number.NEGATIVE_INFINITY;
  private readonly idlePollMs: number;

  constructor(
    private readonly db: Database,
    private readonly policy: RetryPolicy,
    private readonly log: Logger,
    private readonly pollMs = 500,
  ) {
    this.idlePollMs = Math.max(pollMs, IDLE_POLL_MS);
  }

  async add(jobs: Omit<DeliveryJob, 'attempts'>[], db: Database = this.db): Promise<void> {
    if (jobs.length === 0) return;
    await db.query(
      `INSERT INTO delivery_jobs (id, project_id, target_kind, target_id, body)
       SELECT x.id, x.project_id, x.target_kind, x.target_id, x.body
       FROM jsonb_to_recordset($1::jsonb) AS x(id text, project_id text, target_kind text, target_id text, body jsonb)`,
      [
        JSON.stringify(
          jobs.map((j) => ({
            id: j.id,
            project_id: j.projectId,
            target_kind: j.target.kind,
            target_id: j.target.id,
            body: j.body,
          })),
        ),
      ],
    );
    this.lastAdded = Date.now();
    this.wake();
  }

  async depth(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM delivery_jobs WHERE status IN ('pending', 'running')`,
    );
    return rows[0]?.n ?? 0;
  }

  start(handler: DeliveryHandler, onAttempt: AttemptListener): void {
    this.handler = { handler, onAttempt };
    this.schedule(0);
  }

  private handler?: { handler: DeliveryHandler; onAttempt: AttemptListener };

  private wake(): void {
    if (this.handler && !this.closed) this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      let next = this.pollMs;
      this.running ??= this.drain()
        .then((wait) => {
          next = wait;
        })
        .finally(() => {
          this.running = undefined;
          // Jobs added while the drain ran woke nothing (this timer replaces that wake-up): keep the short poll.
          this.schedule(this.recentlyAdded() ? Math.min(next, this.pollMs) : next);
        });
    }, delay);
    this.timer.unref();
  }

  /** Sends every due job; resolves with how long to wait before the next poll. */
  private async drain(): Promise<number> {
    for (;;) {
      if (this.closed || !this.handler) return this.pollMs;
      let rows: JobRow[];
      try {
        rows = (
          await this.db.query<JobRow>(
            `UPDATE delivery_jobs SET status = 'running', attempts = attempts + 1,
               locked_until = now() + interval '${LOCK_SECONDS} seconds', updated_at = now()
             WHERE id IN (
               SELECT id FROM delivery_jobs
               WHERE (status = 'pending' AND next_attempt_at <= now()) OR (status = 'running' AND locked_until < now())
               ORDER BY next_attempt_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
             RETURNING id, project_id, target_kind, target_id, body, attempts`,
          )
        ).rows;
      } catch (err) {
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'delivery queue poll failed');
        return this.pollMs;
      }
      if (rows.length === 0) return this.idleWait();
      await Promise.all(rows.map((row) => this.attempt(row)));
    }
  }

  /** Whether this instance added jobs lately: their transaction may commit after the wake-up it caused. */
  private recentlyAdded(): boolean {
    return Date.now() - this.lastAdded < this.idlePollMs;
  }

  /** With nothing due: how long until a job will be (its retry, or the lock of a job being sent running out). */
  private async idleWait(): Promise<number> {
    if (this.recentlyAdded()) return this.pollMs;
    try {
      const { rows } = await this.db.query<{ wait_ms: number | string | null }>(
        `SELECT (EXTRACT(EPOCH FROM min(CASE WHEN status = 'pending' THEN next_attempt_at ELSE locked_until END)
                 - now()) * 1000)::float8 AS wait_ms
         FROM delivery_jobs WHERE status IN ('pending', 'running')`,
      );
      const wait = rows[0]?.wait_ms;
      if (wait === null || wait === undefined) return this.idlePollMs;
      return Math.min(this.idlePollMs, Math.max(this.pollMs, Number(wait)));
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'delivery queue poll failed');
      return this.pollMs;
    }
  }

  private async attempt(row: JobRow): Promise<void> {
    const { handler, onAttempt } = this.handler as NonNullable<typeof this.handler>;
    const job: DeliveryJob = {
      id: row.id,
      projectId: row.project_id,
      target: { kind: row.target_kind, id: row.target_id },
      body: typeof row.body === 'string' ? (JSON.parse(row.body) as unknown) : row.body,
      attempts: row.attempts - 1,
    };
    const { result, final } = await attemptDelivery(handler, job, this.policy);
    try {
      if (result.ok) {
        await this.db.query(
          `UPDATE delivery_jobs SET status = 'delivered', locked_until = NULL, updated_at = now() WHERE id = $1`,
          [row.id],
        );
      } else {
        const delay = backoffMs(this.policy, row.attempts);
        await this.db.query(
          `UPDATE delivery_jobs SET status = $2, last_error = $3, locked_until = NULL, updated_at = now(),
             next_attempt_at = now() + ($4::text || ' milliseconds')::interval WHERE id = $1`,
          [row.id, final ? 'failed' : 'pending', result.error.slice(0, 1000), String(delay)],
        );
      }
      await onAttempt({ ...job, attempts: row.attempts }, result, final);
    } catch (err) {
      this.log.warn(
        { err: err instanceof Error ? err.message : String(err), job: row.id },
        'delivery bookkeeping failed',
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
