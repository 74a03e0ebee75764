/**
 * CDS Hooks feedback (`POST /cds-services/{id}/feedback`): each item is stored as an AuditEvent of subtype
 * `cds-feedback` in the tenant's project (searchable: `AuditEvent?subtype=cds-feedback&entity=Bot/{id}`), all
 * items of a request or none. `feedbackStats` sums acceptance per service and card.
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
function toAuditEvent(serviceId: string, clientId: string, item: NormalizedFeedbackItem, received: Date): AuditEvent {
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
    throw invalidIssues(400, locatedIssues(validation.issues));
  }
  // One statement: all items or none.
  await createRepository(services.db, projectSystemAccess(caller.projectId)).createMany(
    validation.items.map((item) => toAuditEvent(serviceId, caller.clientId, item, received)),
  );
  return validation.items.length;
}

export interface CardStats {
  card: string;
  accepted: number;
  overridden: number;
}

export interface ServiceStats {
  serviceId: string;
  accepted: number;
  overridden: number;
  cards: CardStats[];
}

export async function feedbackStats(services: Services, projectId: string): Promise<ServiceStats[]> {
  const repo = createRepository(services.db, projectSystemAccess(projectId));
  const byService = new Map<string, Map<string, CardStats>>();
  for (let offset = 0; ; offset += 1000) {
    const events = await repo.searchResources<AuditEvent>('AuditEvent', {
      subtype: `${AUDIT_TYPE_SYSTEM}|${FEEDBACK_SUBTYPE}`,
      _count: '1000',
      _offset: String(offset),
    });
    for (const event of events) {
      const entity = event.entity?.[0];
      const serviceId = entity?.what?.reference?.replace(/^Bot\//, '');
      const value = (type: string) => entity?.detail?.find((d) => d.type === type)?.valueString;
      const card = value('card');
      if (!serviceId || !card) continue;
      const cards = byService.get(serviceId) ?? new Map<string, CardStats>();
      byService.set(serviceId, cards);
      const stats = cards.get(card) ?? { card, accepted: 0, overridden: 0 };
      cards.set(card, stats);
      if (value('outcome') === 'accepted') stats.accepted++;
      else stats.overridden++;
    }
    if (events.length < 1000) break;
  }
  return [...byService].map(([serviceId, cards]) => {
    const list = [...cards.values()];
    return {
      serviceId,
      accepted: list.reduce((n, c) => n + c.accepted, 0),
      overridden: list.reduce((n, c) => n + c.overridden, 0),
      cards: list,
    };
  });
}
