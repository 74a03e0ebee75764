/**
 * Runs the project's adjudication bot (coded bot or rule set) on a PAS request, through the same sandbox path as
 * CDS services, with read-only access to the payer's own store and nothing else. Whatever goes wrong — no bot
 * bound, a bot that throws, times out or answers an invalid decision — the items are pended with the reason, and
 * the run (with its failure) is audited; a response is never half-made from a bad answer.
 */
import type { Bundle, Claim } from '@medplum/fhirtypes';
import type { HostCall } from '@hookbot/runtime';
import { dispatchClientCall, readOnlyClient } from '../bots/fhir-client-bridge.js';
import { whileOpen } from '../bots/execute.js';
import { judgeRun, runAudited } from '../bots/run-audited.js';
import type { Services } from '../services.js';
import { checkDecision, pendAll, type Decision } from './decision.js';
import type { Member } from './member.js';
import { getBinding, memberHistory } from './store.js';

export interface AdjudicationInput {
  services: Services;
  projectId: string;
  clientId: string;
  /** `submit`, `update` or `attachment`: what brought the request to the bot. */
  operation: 'submit' | 'update' | 'attachment';
  claim: Claim;
  bundle: Bundle;
  member: Member;
  memberId: string;
  /** The item sequences to decide (all of them, or an update's changed ones). */
  sequences: number[];
  /** Documents that arrived after the request (`$submit-attachment`). */
  attachments?: unknown[];
  authorizationId: string;
  requestIds?: { requestId: string; traceId: string };
}

export interface Adjudication {
  decision: Decision;
  /** The bot that decided, when one ran. */
  botId?: string;
  failed: boolean;
}

export async function adjudicate(input: AdjudicationInput): Promise<Adjudication> {
  const { services, projectId } = input;
  if (input.sequences.length === 0) return { decision: { items: [] }, failed: false };
  const botId = await getBinding(services.db, projectId);
  if (!botId) {
    return {
      decision: pendAll(input.sequences, 'Pended for review: no adjudication bot is bound for prior authorization'),
      failed: true,
    };
  }
  let loaded;
  try {
    loaded = await services.bots.getWithCode(projectId, botId);
  } catch {
    return {
      decision: pendAll(input.sequences, 'Pended for review: the adjudication bot is missing or has no deployed code'),
      botId,
      failed: true,
    };
  }
  const history = await memberHistory(services.db, projectId, input.memberId, input.authorizationId, input.clientId);
  // The bot sees every submitter's requests for the member (payer policy may need them); its answer goes to this
  // submitter, so one naming another submitter's authorization is refused like any invalid answer.
  const foreign = history.filter((h) => !h.sameSubmitter).map((h) => h.preAuthRef);
  const payer = readOnlyClient(services.bots.systemRepo(projectId));
  const budget = { open: true };
  const host: HostCall = whileOpen(budget, (_client, method, args) => dispatchClientCall(payer, method, args));

  const { value } = await runAudited(
    {
      services,
      projectId,
      bot: loaded.bot,
      code: loaded.code,
      input: {
        kind: 'pas',
        operation: input.operation,
        claim: input.claim,
        bundle: input.bundle,
        member: { coverage: input.member.coverage, patient: input.member.patient ?? null, memberId: input.memberId },
        sequences: input.sequences,
        history,
        attachments: input.attachments ?? [],
      },
      host,
      clients: ['medplum', 'payer'],
      clientId: input.clientId,
      onSettled: () => (budget.open = false),
      ...(input.requestIds ? { requestIds: input.requestIds } : {}),
      subtype: `pas-${input.operation}`,
      details: { authorization: input.authorizationId },
    },
    (result) => {
      if (!result.ok) {
        const reason = `Pended for review: the adjudication bot failed (${result.kind})`;
        return { ...judgeRun(result), value: { decision: pendAll(input.sequences, reason), failed: true } };
      }
      const checked = checkDecision(result.result, input.sequences);
      const answer = checked.ok ? JSON.stringify(checked.decision) : '';
      if (!checked.ok || foreign.some((ref) => answer.includes(ref))) {
        return {
          outcome: 'error',
          description: `invalid decision: ${checked.ok ? "it names another submitter's authorization" : checked.reason}`,
          value: {
            decision: pendAll(input.sequences, 'Pended for review: the adjudication bot answered an invalid decision'),
            failed: true,
          },
        };
      }
      return { outcome: 'success', value: { decision: checked.decision, failed: false } };
    },
  );
  return { ...value, botId };
}
