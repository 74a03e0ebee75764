/** The resource types a payer platform stores. Anything else answers 400. */
export const RESOURCE_TYPES = [
  'Bot',
  'Patient',
  'Coverage',
  'Organization',
  'Practitioner',
  'PractitionerRole',
  'ServiceRequest',
  'MedicationRequest',
  'DeviceRequest',
  'Appointment',
  'Encounter',
  'Claim',
  'ClaimResponse',
  'ExplanationOfBenefit',
  'Questionnaire',
  'QuestionnaireResponse',
  'Subscription',
  'AuditEvent',
  'Binary',
  // Bulk Data export by Group (`fhir/export/`): the payer's lists of members (attribution lists, cohorts).
  'Group',
] as const;

export type SupportedResourceType = (typeof RESOURCE_TYPES)[number];

const SUPPORTED: ReadonlySet<string> = new Set(RESOURCE_TYPES);

/**
 * Types that are only ever created: an audit trail nobody can rewrite or erase through the API. Their one version is
 * the current row, so they get no history row (for AuditEvents, the bulk of all writes, ~15% less database work).
 */
const APPEND_ONLY: ReadonlySet<string> = new Set<SupportedResourceType>(['AuditEvent']);

export function isAppendOnly(type: string): boolean {
  return APPEND_ONLY.has(type);
}

/**
 * Types only the server writes, through its own operations: a prior authorization decision changes a ClaimResponse
 * through `$decide` (which checks who decides and records the change), never through a plain create, update or
 * delete, whatever the client's scopes.
 */
const SERVER_WRITTEN: ReadonlySet<string> = new Set<SupportedResourceType>(['ClaimResponse']);

export function isServerWritten(type: string): boolean {
  return SERVER_WRITTEN.has(type);
}

export function isSupportedResourceType(type: string): type is SupportedResourceType {
  return SUPPORTED.has(type);
}

/** FHIR R4 `id` datatype. */
export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;
