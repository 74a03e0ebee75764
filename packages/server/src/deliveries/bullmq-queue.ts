/**
 * Delivery jobs on Redis with BullMQ, when `REDIS_URL` is set: jobs survive restarts in Redis, any instance's worker
 * takes them, and a failed attempt is retried with exponential backoff (capped) by BullMQ itself.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../infra/logger.js';
import { attemptDelivery, backoffMs, type DeliveryJob, type DeliveryQueue, type RetryPolicy } from './jobs.js';

const QUEUE = 'pas-deliveries';
const CONCURRENCY = 8;

type JobData = Omit<DeliveryJob, 'attempts'>;

export function createBullQueue(url: string, prefix: string, policy: RetryPolicy, log: Logger): Promise<DeliveryQueue> {
  // BullMQ's blocking worker commands need a connection that never gives up on a request.
  const connection = () => {
    const redis = new Redis(url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    return redis;
  };
  const queueConnection = connection();
  const bullPrefix = `${prefix}bull`;
  const queue = new Queue<JobData>(QUEUE, { connection: queueConnection, prefix: bullPrefix });
  queue.on('error', (err) => log.warn({ err: err.message }, 'delivery queue error'));
  let worker: Worker<JobData> | undefined;
  let workerConnection: Redis | undefined;

  return Promise.resolve({
    kind: 'bullmq' as const,
    async add(jobs) {
      if (jobs.length === 0) return;
      await queue.addBulk(
        jobs.map((job) => ({
          name: job.target.kind,
          data: job,
          opts: {
            jobId: job.id,
            attempts: policy.maxAttempts,
            backoff: { type: 'capped-exponential' },
            removeOnComplete: 1000,
            removeOnFail: 5000,
          },
        })),
      );
    },
    depth: () => queue.getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized', 'waiting-children'),
    start(handler, onAttempt) {
      workerConnection = connection();
      worker = new Worker<JobData>(
        QUEUE,
        async (job) => {
          const attempt: DeliveryJob = { ...job.data, attempts: job.attemptsMade };
          const { result, final } = await attemptDelivery(handler, attempt, policy);
          await onAttempt({ ...attempt, attempts: job.attemptsMade + 1 }, result, final).catch((err: unknown) =>
            log.warn({ err: err instanceof Error ? err.message : String(err) }, 'delivery bookkeeping failed'),
          );
          if (!result.ok) throw new Error(result.error);
        },
        {
          connection: workerConnection,
          prefix: bullPrefix,
          concurrency: CONCURRENCY,
          settings: { backoffStrategy: (attemptsMade: number) => backoffMs(policy, attemptsMade) },
        },
      );
      worker.on('error', (err) => log.warn({ err: err.message }, 'delivery worker error'));
    },
    async close() {
      await worker?.close();
      await queue.close();
      await Promise.all([
        queueConnection.quit().catch(() => undefined),
        workerConnection?.quit().catch(() => undefined),
      ]);
    },
  });
}
