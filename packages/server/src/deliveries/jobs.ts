import type { Database } from '../infra/database.js';
import { describeFailure } from './failure.js';

/** A delivery: one body to POST to one target (a PAS Subscription's endpoint, or a partner's OAuth2 callback). */
export interface DeliveryJob {
  id: string;
  projectId: string;
  target: { kind: 'subscription' | 'callback'; id: string };
  body: unknown;
  /** Attempts made before this one. */
  attempts: number;
}

export type DeliveryResult = { ok: true } | { ok: false; error: string };

/** Sends one job; the queue retries a failure with backoff until `maxAttempts`. */
export type DeliveryHandler = (job: DeliveryJob) => Promise<DeliveryResult>;

/** What the queue reports after each attempt (for the Subscription's status and the audit trail). */
export type AttemptListener = (job: DeliveryJob, result: DeliveryResult, final: boolean) => Promise<void>;

export interface DeliveryQueue {
  readonly kind: 'table' | 'bullmq';
  /** Adds jobs; `db` is the transaction the jobs belong to (the table queue writes in it). */
  add(jobs: Omit<DeliveryJob, 'attempts'>[], db?: Database): Promise<void>;
  start(handler: DeliveryHandler, onAttempt: AttemptListener): void;
  /** Jobs neither delivered nor given up (waiting, retrying or being sent), on every instance. */
  depth(): Promise<number>;
  /** Stops taking jobs and waits for the ones being sent. */
  close(): Promise<void>;
}

export interface RetryPolicy {
  maxAttempts: number;
  /** The first retry's delay; each next one doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export function backoffMs(policy: RetryPolicy, attemptsMade: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
}

/** Sends `job` once: a handler that throws counts as a failed attempt; `final` when no retry follows. */
export async function attemptDelivery(
  handler: DeliveryHandler,
  job: DeliveryJob,
  policy: RetryPolicy,
): Promise<{ result: DeliveryResult; final: boolean }> {
  const result = await handler(job).catch((err: unknown): DeliveryResult => ({
    ok: false,
    error: describeFailure(err),
  }));
  return { result, final: result.ok || job.attempts + 1 >= policy.maxAttempts };
}
