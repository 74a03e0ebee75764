import type { AccessPolicy, Interaction } from '../../auth/access.js';
import { forbidden, HookbotError } from '../../infra/errors.js';
import type { Database } from '../../infra/database.js';
import { compartmentSql } from '../compartment.js';
import { isAppendOnly, isServerWritten } from '../resource-types.js';
import { assertResourceType } from '../search/parse.js';

/** What every store operation works with: the database, the caller's policy, and the FHIR base URL. */
export interface StoreContext {
  db: Database;
  access: AccessPolicy;
  /** Absolute FHIR base, e.g. `http://localhost:8103/fhir/R4`. */
  fhirBase: string;
}

const INTERACTION_NAMES: Record<Interaction, string> = {
  c: 'create',
  r: 'read',
  u: 'update',
  d: 'delete',
  s: 'search',
};

/**
 * 400 for an unsupported type, 403 when the caller's scopes do not allow the interaction, 405 for an update or
 * delete of an append-only type (whatever the scopes), and for a client's write of a type only the server writes.
 */
export function authorize(ctx: StoreContext, resourceType: string, interaction: Interaction): void {
  assertResourceType(resourceType);
  if (!ctx.access.allows(resourceType, interaction)) {
    throw forbidden('auth.forbidden-scope', `Not allowed to ${INTERACTION_NAMES[interaction]} ${resourceType}`);
  }
  if ((interaction === 'u' || interaction === 'd') && isAppendOnly(resourceType)) {
    throw new HookbotError(
      'fhir.append-only',
      `${resourceType} is append-only: it can be created and read, never updated or deleted`,
      { headers: { Allow: 'GET, HEAD' } },
    );
  }
  if (interaction !== 'r' && interaction !== 's' && isServerWritten(resourceType) && !ctx.access.system) {
    throw new HookbotError(
      'pas.claim-response-read-only',
      `${resourceType} is written by the server alone: record a prior authorization decision with POST ClaimResponse/{id}/$decide`,
      { headers: { Allow: 'GET, HEAD' } },
    );
  }
}

/**
 * ` AND <the member's compartment>` for a member's caller (`AccessPolicy.patient`), else nothing: appended to every
 * read of the store, with `params` the statement's (whose `$1` is the project) and `alias` the row read.
 */
export function confineSql(ctx: StoreContext, types: readonly string[], params: unknown[], alias = 'r'): string {
  const patient = ctx.access.patient;
  if (patient === undefined) return '';
  return ` AND ${compartmentSql(patient, types, (v) => `$${params.push(v)}`, '$1', alias)}`;
}

/** `http://host` or `http://host/fhir/R4` → `http://host/fhir/R4`. */
export function fhirBaseUrl(baseUrl = ''): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return trimmed.endsWith('/fhir/R4') ? trimmed : `${trimmed}/fhir/R4`;
}
