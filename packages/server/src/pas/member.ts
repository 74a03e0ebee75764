/**
 * Finds the member a PAS Claim is for among the payer's own data: a Coverage of the caller's project whose
 * `subscriberId` (or an identifier typed MB) is the focal Coverage's member id. Resource ids in a request are the
 * provider's and mean nothing here; only the member id does. Another project's members are never looked at.
 */
import type { Coverage, Patient } from '@medplum/fhirtypes';
import type { Database } from '../infra/database.js';

export interface Member {
  coverage: Coverage;
  patient?: Patient;
  patientId: string;
}

export async function findMember(db: Database, projectId: string, memberId: string): Promise<Member | undefined> {
  const find = (predicate: string) =>
    db.query<{ content: Coverage | string }>(
      `SELECT content FROM fhir_resources
       WHERE project_id = $1 AND resource_type = 'Coverage' AND NOT deleted AND ${predicate}
       ORDER BY (content->>'status' = 'active') DESC, last_updated DESC LIMIT 1`,
      [projectId, memberId],
    );
  // subscriberId is indexed (migration 010); an MB identifier is the rarer form, looked for only when it is absent.
  let { rows } = await find(`content->>'subscriberId' = $2`);
  if (rows.length === 0) {
    ({ rows } = await find(`content->'identifier' @> jsonb_build_array(jsonb_build_object('value', $2::text))`));
  }
  const raw = rows[0]?.content;
  if (!raw) return undefined;
  const coverage = typeof raw === 'string' ? (JSON.parse(raw) as Coverage) : raw;
  const patientId = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(coverage.beneficiary?.reference ?? '')?.[1];
  if (!patientId) return undefined;
  const patientRows = await db.query<{ content: Patient | string }>(
    `SELECT content FROM fhir_resources WHERE project_id = $1 AND resource_type = 'Patient' AND id = $2 AND NOT deleted`,
    [projectId, patientId],
  );
  const p = patientRows.rows[0]?.content;
  return {
    coverage,
    patientId,
    ...(p ? { patient: typeof p === 'string' ? (JSON.parse(p) as Patient) : p } : {}),
  };
}
