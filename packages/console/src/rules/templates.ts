/**
 * Fact templates for what coverage policies keep asking: each is a small form whose answers write the FHIRPath, so
 * an analyst writes FHIRPath by hand only when no template fits. `operator` says which condition usually reads it.
 */
export interface TemplateParam {
  name: string;
  label: string;
  default: string;
  options?: { value: string; label: string }[];
}

export interface FactTemplate {
  id: string;
  label: string;
  factName: string;
  params: TemplateParam[];
  fhirpath: (p: Record<string, string>) => string;
  many: boolean;
  operator: string;
}

const CODE_SYSTEMS = [
  { value: 'http://www.ama-assn.org/go/cpt', label: 'CPT' },
  { value: 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', label: 'HCPCS' },
  { value: 'http://hl7.org/fhir/sid/icd-10-cm', label: 'ICD-10-CM' },
  { value: 'http://hl7.org/fhir/sid/ndc', label: 'NDC' },
];

/** FHIRPath string literals: quotes and backslashes escaped, so a form answer cannot end the string. */
const lit = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
const key = (s: string) => (/^[A-Za-z][A-Za-z0-9]*$/.test(s) ? s : 'coverage');

export const FACT_TEMPLATES: FactTemplate[] = [
  {
    id: 'order-codes',
    label: "The order's codes (use with “in value set”)",
    factName: 'orderCodes',
    params: [{ name: 'system', label: 'Code system', default: CODE_SYSTEMS[0]?.value ?? '', options: CODE_SYSTEMS }],
    fhirpath: (p) => `%order.code.coding.where(system=${lit(p.system ?? '')}).code`,
    many: true,
    operator: 'inValueSet',
  },
  {
    id: 'plan-group',
    label: "The member's plan or group",
    factName: 'planGroup',
    params: [
      { name: 'prefetch', label: 'Coverage prefetch key', default: 'coverage' },
      {
        name: 'class',
        label: 'Class',
        default: 'group',
        options: [
          { value: 'group', label: 'Group' },
          { value: 'plan', label: 'Plan' },
        ],
      },
    ],
    fhirpath: (p) => `prefetch.${key(p.prefetch ?? '')}.class.where(type.coding.code=${lit(p.class ?? 'group')}).value`,
    many: false,
    operator: 'in',
  },
  {
    id: 'birth-date',
    label: 'Age at the service date (the birth date, with “age at date”)',
    factName: 'birthDate',
    params: [{ name: 'prefetch', label: 'Patient prefetch key', default: 'patient' }],
    fhirpath: (p) => `prefetch.${key(p.prefetch ?? '')}.birthDate`,
    many: false,
    operator: 'ageAtDate',
  },
  {
    id: 'diagnosis',
    label: 'A diagnosis on the order',
    factName: 'orderDiagnoses',
    params: [],
    fhirpath: () => "%order.reasonCode.coding.where(system='http://hl7.org/fhir/sid/icd-10-cm').code",
    many: true,
    operator: 'codeIn',
  },
  {
    id: 'prior-claim',
    label: 'A prior claim or authorization within N days',
    factName: 'recentClaims',
    params: [
      { name: 'prefetch', label: 'Prefetch key of the claims Bundle', default: 'claims' },
      {
        name: 'type',
        label: 'Kind',
        default: 'Claim',
        options: [
          { value: 'Claim', label: 'Claim' },
          { value: 'ClaimResponse', label: 'Authorization (ClaimResponse)' },
        ],
      },
      { name: 'days', label: 'Within days', default: '90' },
    ],
    fhirpath: (p) =>
      `prefetch.${key(p.prefetch ?? '')}.entry.resource.where(resourceType=${lit(p.type ?? 'Claim')} and created >= today() - ${Math.max(1, Number.parseInt(p.days ?? '90', 10) || 90)} days)`,
    many: true,
    operator: 'exists',
  },
  {
    id: 'document',
    label: 'A document attached',
    factName: 'attachedDocuments',
    params: [
      { name: 'prefetch', label: 'Prefetch key of the documents Bundle', default: 'documents' },
      { name: 'loinc', label: 'LOINC document type', default: '11506-3' },
    ],
    fhirpath: (p) =>
      `prefetch.${key(p.prefetch ?? '')}.entry.resource.where(resourceType='DocumentReference' and type.coding.code=${lit(p.loinc ?? '')})`,
    many: true,
    operator: 'exists',
  },
];
