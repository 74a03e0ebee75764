/**
 * Requests whose adjudication was interrupted: `$submit` stores a request `received` before the bot runs, so a
 * process that dies before the decision is recorded leaves it there, with no ClaimResponse. At start and then
 * periodically, each request `received` for longer than `HOOKBOT_PAS_INTERRUPTED_AFTER_MS` is pended with the reason
 * as a decision change (a ClaimResponse, an AuditEvent, a notification to the submitter's Subscriptions and
 * callback, who never got the synchronous answer). Pended, not decided again: the bot may be what stopped the
 * process, and a reviewer's `$decide` or documents then decide it. Instances sweeping at once each claim a request
 * with a conditional UPDATE, so one of them records it; one that dies after claiming leaves it to a later sweep.
 */
import type { Services } from '../services.js';
import { pendAll } from './decision.js';
import { recordDecisionChange, requestOf } from './record.js';
import { getAuthorization } from './store.js';

const INTERRUPTED = 'Pended for review: the decision was interrupted (the server stopped while deciding)';
const BATCH = 100;

/** Pends the requests left `received` for more than `olderThanMs`; answers how many this call pended. */
export async function pendInterrupted(services: Services, olderThanMs: number): Promise<number> {
  const { rows } = await services.db.query<{ project_id: string; id: string }>(
    `UPDATE pas_authorizations SET updated_at = now()
     WHERE (project_id, id) IN (
       SELECT project_id, id FROM pas_authorizations
       WHERE status = 'received' AND updated_at < now() - make_interval(secs => $1)
       ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
     AND status = 'received' AND updated_at < now() - make_interval(secs => $1)
     RETURNING project_id, id`,
    [olderThanMs / 1000, BATCH],
  );
  let pended = 0;
  for (const { project_id: projectId, id } of rows) {
    try {
      const row = await getAuthorization(services.db, projectId, id);
      if (!row) continue;
      const sequences = (requestOf(row.requestBundle).claim.item ?? []).map((i) => i.sequence);
      const decision = pendAll(sequences, INTERRUPTED);
      await recordDecisionChange({
        services,
        projectId,
        authorizationId: id,
        items: decision.items,
        ...(decision.note ? { note: decision.note } : {}),
        by: 'hookbot',
        cause: 'recovery',
        fhirBase: `${services.config.baseUrl}/fhir/R4`,
      });
      pended++;
      services.log.warn(
        { projectId, authorization: id },
        'pended a prior authorization whose decision was interrupted',
      );
    } catch (err) {
      // One request that cannot be recorded does not hold back the others; it is claimed again after the bound.
      services.log.error(
        { projectId, authorization: id, err: err instanceof Error ? err.message : String(err) },
        'could not pend an interrupted prior authorization',
      );
    }
  }
  return pended;
}

/** Sweeps now and then every `olderThanMs / 2` (at most a minute); `stop` waits for a sweep under way. */
export function startRecovery(services: Services, olderThanMs: number): { stop(): Promise<unknown> } {
  let running: Promise<unknown> = Promise.resolve();
  const sweep = () =>
    (running = pendInterrupted(services, olderThanMs).catch((err: unknown) =>
      services.log.error({ err: err instanceof Error ? err.message : String(err) }, 'PAS recovery sweep failed'),
    ));
  void sweep();
  const timer = setInterval(() => void sweep(), Math.min(60_000, olderThanMs / 2));
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      return running;
    },
  };
}
