/**
 * `GET /cds-feedback/stats`: acceptance per CDS service and card over the project's feedback, in one SQL aggregate
 * (one consistent snapshot, however many events and however fast they arrive). Counts only the feedback events the
 * server recorded (record-origin tag, fhir/record-origin.ts): an AuditEvent a client wrote never counts. The
 * candidates come from the search index (`subtype`), the card and outcome from the stored event (see
 * `toAuditEvent` in feedback.ts).
 */
import { SERVER_RECORDED_TAG } from '../fhir/record-origin.js';
import { AUDIT_TYPE_SYSTEM } from '../bots/audit.js';
import type { Services } from '../services.js';
import { FEEDBACK_SUBTYPE } from './feedback.js';

interface CardStats {
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

const detail = (type: string) =>
  `(SELECT d->>'valueString' FROM jsonb_array_elements(f.entity->'detail') d WHERE d->>'type' = '${type}' LIMIT 1)`;

const STATS_SQL = `
  SELECT service_id, card,
         count(*) FILTER (WHERE outcome = 'accepted')::int AS accepted,
         count(*) FILTER (WHERE outcome IS DISTINCT FROM 'accepted')::int AS overridden
  FROM (
    SELECT regexp_replace(f.entity->'what'->>'reference', '^Bot/', '') AS service_id,
           ${detail('card')} AS card, ${detail('outcome')} AS outcome
    FROM (
      SELECT r.content->'entity'->0 AS entity FROM fhir_resources r
      WHERE r.project_id = $1 AND r.resource_type = 'AuditEvent' AND NOT r.deleted
        AND r.id IN (
          SELECT resource_id FROM fhir_index
          WHERE project_id = $1 AND resource_type = 'AuditEvent' AND code = 'subtype' AND system = $2 AND value = $3
        )
        AND r.content->'meta'->'tag' @> $4::jsonb
    ) f
  ) e
  WHERE service_id <> '' AND card IS NOT NULL
  GROUP BY service_id, card
  ORDER BY service_id, card`;

export async function feedbackStats(services: Services, projectId: string): Promise<ServiceStats[]> {
  const { rows } = await services.db.query<{ service_id: string } & CardStats>(STATS_SQL, [
    projectId,
    AUDIT_TYPE_SYSTEM,
    FEEDBACK_SUBTYPE,
    JSON.stringify([{ system: SERVER_RECORDED_TAG.system, code: SERVER_RECORDED_TAG.code }]),
  ]);
  const byService = new Map<string, ServiceStats>();
  for (const { service_id: serviceId, card, accepted, overridden } of rows) {
    const stats = byService.get(serviceId) ?? { serviceId, accepted: 0, overridden: 0, cards: [] };
    byService.set(serviceId, stats);
    stats.cards.push({ card, accepted: Number(accepted), overridden: Number(overridden) });
    stats.accepted += Number(accepted);
    stats.overridden += Number(overridden);
  }
  return [...byService.values()];
}
