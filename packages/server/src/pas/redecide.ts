/**
 * An existing authorization decided again (an update, or documentation that arrived): the adjudication bot decides
 * `sequences`, and its decisions, after any made without it, are recorded as one change — attributed to the bot
 * when one ran, to the calling client otherwise.
 */
import type { Caller } from '../auth/access-token.js';
import { adjudicate, type AdjudicationInput } from './adjudicate.js';
import type { ItemDecision } from './decision.js';
import { recordDecisionChange, type DecisionChange, type RecordedChange } from './record.js';
import type { AuthorizationRow } from './store.js';

export interface RedecisionInput extends Pick<
  AdjudicationInput,
  'services' | 'projectId' | 'claim' | 'bundle' | 'member' | 'memberId' | 'sequences' | 'attachments' | 'requestIds'
> {
  caller: Caller;
  cause: 'update' | 'attachment';
  row: AuthorizationRow;
  fhirBase: string;
  /** Decisions made without the bot (an update's cancellations). */
  changes?: ItemDecision[];
  /** What the change records beside the decision: an update's new request, the attachments kept. */
  record: Pick<DecisionChange, 'request' | 'attachments'>;
}

export async function redecide(input: RedecisionInput): Promise<RecordedChange> {
  const { services, projectId, caller, cause, row } = input;
  const { decision, botId } = await adjudicate({
    services,
    projectId,
    clientId: caller.clientId,
    operation: cause,
    claim: input.claim,
    bundle: input.bundle,
    member: input.member,
    memberId: input.memberId,
    sequences: input.sequences,
    attachments: input.attachments,
    authorizationId: row.id,
    ...(input.requestIds ? { requestIds: input.requestIds } : {}),
  });
  return recordDecisionChange({
    services,
    projectId,
    authorizationId: row.id,
    items: [...(input.changes ?? []), ...decision.items],
    // adjudicate names no bot when it had nothing to decide.
    by: botId ? `Bot/${botId}` : `ClientApplication/${caller.clientId}`,
    cause,
    fhirBase: input.fhirBase,
    ...input.record,
  });
}
