/**
 * `POST /fhir/R4/ClaimResponse/{id}/$decide`: a reviewer of the payer records the decision on pended (or any)
 * items: `{items: [{sequence, action, ...}]}` in the shape an adjudication bot answers, or a Parameters whose
 * `decision` parameter holds it as `valueString` JSON. Only the payer decides: the role check, and never the client
 * that submitted the request. Each decision is a new ClaimResponse version with an AuditEvent naming the reviewer.
 */
import type { Bundle } from '@medplum/fhirtypes';
import type { Caller } from '../auth/access-token.js';
import type { Repository } from '../fhir/repository.js';
import { badRequest, forbidden, notFound } from '../infra/errors.js';
import type { Services } from '../services.js';
import { requirePas } from './access.js';
import { checkDecision } from './decision.js';
import { recordDecisionChange } from './record.js';
import { getAuthorization } from './store.js';

export interface DecideInput {
  services: Services;
  caller: Caller;
  repo: Repository;
  id: string;
  body: unknown;
}

function decisionOf(body: unknown): unknown {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (record.resourceType !== 'Parameters') return body;
  const param = (record.parameter as { name?: string; valueString?: string }[] | undefined)?.find(
    (p) => p.name === 'decision',
  );
  try {
    return param?.valueString ? (JSON.parse(param.valueString) as unknown) : undefined;
  } catch {
    throw badRequest(
      'pas.invalid-decision',
      'Parameter "decision" must hold JSON',
      'Parameters.parameter[decision].valueString',
    );
  }
}

export async function decidePriorAuthorization(input: DecideInput): Promise<Bundle> {
  const { services, caller, repo } = input;
  requirePas('decide', caller, repo.access);
  const projectId = repo.access.projectId;
  const row = await getAuthorization(services.db, projectId, input.id);
  if (!row) throw notFound('pas.authorization-not-found', `No prior authorization ClaimResponse/${input.id}`);
  if (row.clientId === caller.clientId) {
    throw forbidden('pas.own-request', 'The client that submitted a prior authorization request cannot decide it');
  }
  const body = decisionOf(input.body);
  const items = Array.isArray((body as { items?: unknown } | undefined)?.items)
    ? ((body as { items: { sequence?: unknown }[] }).items ?? [])
    : [];
  const known = new Set((row.decision?.items ?? []).map((i) => i.sequence));
  const sequences = items.map((i) => i.sequence).filter((s): s is number => typeof s === 'number' && known.has(s));
  const checked = checkDecision(body, sequences);
  if (!checked.ok || sequences.length === 0) {
    throw badRequest(
      'pas.invalid-decision',
      `Invalid decision: ${checked.ok ? 'give at least one item of this authorization' : checked.reason}`,
      'items',
    );
  }
  const recorded = await recordDecisionChange({
    services,
    projectId,
    authorizationId: row.id,
    items: checked.decision.items,
    by: `ClientApplication/${caller.clientId}`,
    cause: 'decide',
    humanReviewed: true,
    fhirBase: repo.fhirBase,
    ...(checked.decision.note ? { note: checked.decision.note } : {}),
  });
  return recorded.bundle;
}
