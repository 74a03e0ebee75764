/**
 * Records a change of decision on an existing authorization (a reviewer's, documentation that arrived, an update
 * or a cancellation): the items' new decisions replace the old ones, the ClaimResponse gets a new version, the row
 * its new state, and an AuditEvent says who decided what — all in one transaction. Then the decision is delivered
 * to the submitter's Subscriptions and callbacks.
 */
import type { AuditEvent, Bundle, ClaimResponse } from '@medplum/fhirtypes';
import { projectSystemAccess } from '../auth/access.js';
import { AUDIT_TYPE_SYSTEM } from '../bots/audit.js';
import { createRepository } from '../fhir/repository.js';
import { HookbotError } from '../infra/errors.js';
import type { Services } from '../services.js';
import type { Decision, ItemDecision } from './decision.js';
import { buildResponse } from './response.js';
import { getAuthorization, updateAuthorization, type AuthorizationRow } from './store.js';
import { claimIdentifierKeys, statusOf, storedClaimResponse } from './claim-records.js';
import { validateRequestBundle, type PasRequest } from './validate-request.js';

export interface DecisionChange {
  services: Services;
  projectId: string;
  authorizationId: string;
  /** The items whose decision changes; the others keep theirs. */
  items: ItemDecision[];
  /** Who decided: a client id (reviewer or submitter) or a bot reference. */
  by: string;
  /** `decide`, `attachment`, `update`, `recovery` (an interrupted decision pended): what changed the decision. */
  cause: 'decide' | 'attachment' | 'update' | 'recovery';
  humanReviewed?: boolean;
  fhirBase: string;
  /** For an update: the new request (as `$submit` validated it) and its stored Claim. */
  request?: { parsed: PasRequest; claimId: string };
  attachments?: unknown[];
  note?: string;
}

export function mergeDecisions(current: Decision | null, items: ItemDecision[], note?: string): Decision {
  const bySequence = new Map((current?.items ?? []).map((i) => [i.sequence, i]));
  for (const item of items) bySequence.set(item.sequence, item);
  return {
    items: [...bySequence.values()].sort((a, b) => a.sequence - b.sequence),
    ...(note ? { note } : {}),
  };
}

export function requestOf(bundle: Bundle): PasRequest {
  const parsed = validateRequestBundle(bundle);
  if (!parsed.ok)
    throw new HookbotError('pas.stored-request-unreadable', 'A stored prior authorization request no longer parses');
  return parsed.request;
}

export interface RecordedChange {
  row: AuthorizationRow;
  decision: Decision;
  bundle: Bundle;
  claimResponse: ClaimResponse;
}

export async function recordDecisionChange(change: DecisionChange): Promise<RecordedChange> {
  const { services, projectId } = change;
  const recorded = await services.db.transaction(async (tx) => {
    const row = await getAuthorization(tx, projectId, change.authorizationId, { forUpdate: true });
    if (!row) throw new HookbotError('pas.authorization-not-found', `No prior authorization ${change.authorizationId}`);
    const decision = mergeDecisions(row.decision, change.items, change.note);
    const request = change.request?.parsed ?? requestOf(row.requestBundle);
    const built = buildResponse({
      request,
      id: row.id,
      preAuthRef: row.preAuthRef,
      decision,
      fhirBase: change.fhirBase,
      now: new Date(),
      ...(change.humanReviewed ? { humanReviewed: true } : {}),
    });
    const repo = createRepository(tx, projectSystemAccess(projectId), { baseUrl: change.fhirBase });
    const claimId = change.request?.claimId ?? row.claimId;
    const saved = await repo.update<ClaimResponse>(
      storedClaimResponse(built.claimResponse, claimId, { patientId: row.patientId }),
    );
    await updateAuthorization(tx, projectId, row.id, {
      status: statusOf(decision),
      decision,
      responseBundle: built.bundle,
      ...(change.request
        ? { claimId, requestBundle: request.bundle, addIdentifiers: claimIdentifierKeys(request.claim) }
        : {}),
      ...(change.attachments ? { attachments: change.attachments } : {}),
    });
    await repo.createMany<AuditEvent>([decisionAudit(change, saved)], { serverRecorded: true });
    // Queued with the decision (the table queue writes in this transaction): a decision is never left unsent.
    await services.deliveries.decisionChanged(tx, projectId, audienceOf(row), built.bundle);
    return { row, decision, bundle: built.bundle, claimResponse: saved };
  });
  return recorded;
}

/** The submitter, and the organisation identifiers its request named (Subscriptions filter on these). */
export function audienceOf(row: AuthorizationRow): { clientId: string; orgIdentifiers: string[] } {
  const values = row.providerIdentifiers.map((k) => k.slice(k.lastIndexOf('|') + 1));
  return {
    clientId: row.clientId,
    orgIdentifiers: [...new Set([...(row.orgIdentifier ? [row.orgIdentifier] : []), ...values])],
  };
}

/** Who changed which items to what, on which ClaimResponse version. */
export function decisionAudit(change: DecisionChange, saved: ClaimResponse): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    type: { system: AUDIT_TYPE_SYSTEM, code: 'pas-decision', display: 'pas-decision' },
    subtype: [{ system: AUDIT_TYPE_SYSTEM, code: `pas-${change.cause}` }],
    action: 'U',
    recorded: new Date().toISOString(),
    outcome: '0',
    agent: [{ requestor: true, who: { display: change.by } }],
    source: { observer: { display: 'hookbot' } },
    entity: [
      {
        what: { reference: `ClaimResponse/${saved.id}/_history/${saved.meta?.versionId ?? '1'}` },
        detail: change.items.map((i) => ({ type: `item-${i.sequence}`, valueString: i.action })),
      },
    ],
  };
}
