/** Canonical URLs and code systems of Da Vinci PAS 2.2.1 used by the operations. */
export const PAS = 'http://hl7.org/fhir/us/davinci-pas/StructureDefinition';

const extension = <Name extends string>(name: Name) => `${PAS}/extension-${name}` as const;

export const EXT = {
  reviewAction: extension('reviewAction'),
  reviewActionCode: extension('reviewActionCode'),
  itemTraceNumber: extension('itemTraceNumber'),
  itemPreAuthIssueDate: extension('itemPreAuthIssueDate'),
  itemPreAuthPeriod: extension('itemPreAuthPeriod'),
  administrationReferenceNumber: extension('administrationReferenceNumber'),
  authorizationNumber: extension('authorizationNumber'),
  certificationType: extension('certificationType'),
  infoCancelled: extension('infoCancelled'),
  infoCancelledModifier: `${PAS}/modifierextension-infoCancelled`,
  infoChanged: extension('infoChanged'),
  paLineNumber: extension('paLineNumber'),
  transmissionIdentifiers: extension('TransmissionIdentifiers'),
  claimResponseReviewer: extension('claimResponseReviewer'),
} as const;

export const PROFILE = {
  responseBundle: `${PAS}/profile-pas-response-bundle`,
  claimResponse: `${PAS}/profile-claimresponse`,
  inquiryResponseBundle: `${PAS}/profile-pas-inquiry-response-bundle`,
} as const;

/** X12 306 (HCR01) review action codes. */
export const REVIEW_ACTION_SYSTEM = 'https://codesystem.x12.org/005010/306';
/** X12 HCR03 reason codes. */
export const REVIEW_REASON_SYSTEM = 'https://codesystem.x12.org/005010/886';
export const ADJUDICATION_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/adjudication';
export const CERTIFICATION_TYPE_SYSTEM = 'https://codesystem.x12.org/005010/1322';

export const REVIEW_ACTIONS = {
  A1: 'Certified in total',
  A2: 'Certified - partial',
  A3: 'Not Certified',
  A4: 'Pending',
  A6: 'Modified',
  C: 'Cancelled',
  NA: 'No Action Required',
} as const;

export type ReviewAction = keyof typeof REVIEW_ACTIONS;

export function isReviewAction(value: unknown): value is ReviewAction {
  return typeof value === 'string' && Object.hasOwn(REVIEW_ACTIONS, value);
}

/** Item code systems PAS accepts for services (CPT), supplies and drugs (HCPCS Level II, NDC), with their forms. */
export const ITEM_CODE_SYSTEMS: Record<string, { name: string; pattern: RegExp }> = {
  'http://www.ama-assn.org/go/cpt': { name: 'CPT', pattern: /^\d{4}[0-9FTU]$/ },
  'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets': { name: 'HCPCS Level II', pattern: /^[A-V]\d{4}$/ },
  'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets': { name: 'HCPCS Level II', pattern: /^[A-V]\d{4}$/ },
  'http://hl7.org/fhir/sid/ndc': {
    name: 'NDC',
    pattern: /^(\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1}|\d{5}-\d{4}-\d{2}|\d{11})$/,
  },
};

export const PAS_TOPIC = 'http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic';
