/**
 * Readiness, for a load balancer or orchestrator deciding whether to send this instance traffic: not while
 * migrations run, not when the database does not answer `SELECT 1` within a short timeout, not while the sandbox is
 * unhealthy or its worker is being replaced. Liveness (`/livez`) asks none of this: a restart would not help.
 */
import type { RuntimeStats } from '@hookbot/runtime';
import type { Database } from './database.js';

/** Long enough for a loaded database, short enough that a probe (usually a few seconds' budget) gets an answer. */
export const READY_DB_TIMEOUT_MS = 1000;

/** What start-up and maintenance report while the instance must not take traffic. */
export interface Lifecycle {
  migrating: boolean;
}

export interface ReadinessSources {
  db: Pick<Database, 'query'>;
  runtime: { stats(): RuntimeStats };
  lifecycle: Lifecycle;
  timeoutMs?: number;
}

/** Why the instance is not ready, or undefined when it is. Not sent to callers: the log and probes' operators read it. */
export async function notReadyBecause(sources: ReadinessSources): Promise<string | undefined> {
  if (sources.lifecycle.migrating) return 'migrations are running';
  const stats = sources.runtime.stats();
  if (!stats.healthy || stats.restarting) return 'the sandbox worker is restarting';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('the database did not answer in time'), sources.timeoutMs ?? READY_DB_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      sources.db.query('SELECT 1').then(
        () => undefined,
        () => 'the database did not answer',
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
