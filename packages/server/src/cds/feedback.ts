/**
 * CDS Hooks feedback (`POST /cds-services/{id}/feedback`): each item is stored as an AuditEvent of subtype
 * `cds-feedback` in the tenant's project (searchable: `AuditEvent?subtype=cds-feedback&entity=Bot/{id}`), all
 * items of a request or none, tagged as server-recorded: only those count in the statistics (feedback-stats.ts).
 */
import type { AuditEvent, AuditEventEntityDetail } from '@medplum/fhirtypes';
import { validateFeedback, type NormalizedFeedbackItem } from '@hookbot/bots';
import { projectSystemAccess } from '../auth/access.js';
import { createRepository } from '../fhir/repository.js';
import { invalidIssues, locatedIssues } from '../infra/errors.js';
import type { Services } from '../services.js';
import type { CdsCaller } from './authenticate.js';
import { AUDIT_TYPE_SYSTEM } from '../bots/audit.js';

export const FEEDBACK_SUBTYPE = 'cds-feedback';

/**
 * `recorded` is when the server received the feedback, so a bot's log lists events in the order they arrived; the
 * EHR's own `outcomeTimestamp` (its clock, possibly late or skewed) is kept as a detail.
 */
export function toAuditEvent(
  serviceId: string,
  clientId: string,
  item: NormalizedFeedbackItem,
  received = new Date(),
): AuditEvent {
  const detail: AuditEventEntityDetail[] = [
    { type: 'card', valueString: item.card },
    { type: 'outcome', valueString: item.outcome },
    { type: 'outcomeTimestamp', valueString: item.outcomeTimestamp },
    ...item.acceptedSuggestions.map((id) => ({ type: 'acceptedSuggestion', valueString: id })),
  ];
  const reason = item.overrideReason?.reason;
  if (reason?.code)
    detail.push({ type: 'overrideReason', valueString: [reason.system, reason.code].filter(Boolean).join('|') });
  if (reason?.display) detail.push({ type: 'overrideReasonDisplay', valueString: reason.display });
  if (item.overrideReason?.userComment)
    detail.push({ type: 'userComment', valueString: item.overrideReason.userComment });
  return {
    resourceType: 'AuditEvent',
    type: { system: AUDIT_TYPE_SYSTEM, code: FEEDBACK_SUBTYPE },
    subtype: [{ system: AUDIT_TYPE_SYSTEM, code: FEEDBACK_SUBTYPE }],
    action: 'E',
    recorded: received.toISOString(),
    outcome: '0',
    agent: [{ requestor: true, who: { display: clientId } }],
    source: { observer: { display: 'hookbot' } },
    entity: [{ what: { reference: `Bot/${serviceId}` }, detail }],
  };
}

export async function recordFeedback(
  services: Services,
  caller: CdsCaller,
  serviceId: string,
  body: unknown,
): Promise<number> {
  const received = new Date();
  await services.bots.get(caller.projectId, serviceId);
  const validation = validateFeedback(body);
  if (!validation.ok) {
    throw invalidIssues('cds.invalid-feedback', locatedIssues(validation.issues));
  }
  // One statement: all items or none. Tagged as server-recorded: only these count in the statistics.
  await createRepository(services.db, projectSystemAccess(caller.projectId)).createMany(
    validation.items.map((item) => toAuditEvent(serviceId, caller.clientId, item, received)),
    { serverRecorded: true },
  );
  return validation.items.length;
}
