/**
 * Code matching for payer code systems. Codes are normalised per system so that analysts can write them as they
 * appear in policy documents: ICD-10-CM with or without the dot, NDC in 10-digit hyphenated or 11-digit form.
 */
export const CODE_SYSTEMS = {
  cpt: 'http://www.ama-assn.org/go/cpt',
  hcpcs: 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
  ndc: 'http://hl7.org/fhir/sid/ndc',
} as const;

/** Other URIs seen in the wild for the same systems. */
const SYSTEM_ALIASES: Record<string, string> = {
  'urn:oid:2.16.840.1.113883.6.12': CODE_SYSTEMS.cpt,
  'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets': CODE_SYSTEMS.hcpcs,
  'urn:oid:2.16.840.1.113883.6.285': CODE_SYSTEMS.hcpcs,
  'urn:oid:2.16.840.1.113883.6.90': CODE_SYSTEMS.icd10cm,
  'urn:oid:2.16.840.1.113883.6.69': CODE_SYSTEMS.ndc,
};

function canonicalSystem(system: string | undefined): string | undefined {
  if (system === undefined || system === '') return undefined;
  const short = (CODE_SYSTEMS as Record<string, string>)[system.toLowerCase()];
  return short ?? SYSTEM_ALIASES[system] ?? system;
}

export function normalizeCode(code: string, system: string | undefined): string {
  const trimmed = code.trim().toUpperCase();
  if (system === CODE_SYSTEMS.icd10cm) return trimmed.replaceAll('.', '');
  if (system === CODE_SYSTEMS.ndc) return normalizeNdc(trimmed);
  return trimmed;
}

/** 10-digit NDCs (4-4-2, 5-3-2, 5-4-1) become the 11-digit 5-4-2 billing form; unhyphenated input is kept. */
function normalizeNdc(code: string): string {
  const parts = code.split('-');
  if (parts.length !== 3) return code;
  const [labeler = '', product = '', pack = ''] = parts;
  return labeler.padStart(5, '0') + product.padStart(4, '0') + pack.padStart(2, '0');
}

export interface CodeValue {
  system?: string;
  code: string;
}

/** Codes in a fact value: strings, Codings, CodeableConcepts, or arrays of them (nested arrays flattened). */
export function codesOf(value: unknown, out: CodeValue[] = [], depth = 0): CodeValue[] {
  if (depth > 4 || value === undefined || value === null) return out;
  if (typeof value === 'string') {
    out.push({ code: value });
  } else if (typeof value === 'number') {
    out.push({ code: String(value) });
  } else if (Array.isArray(value)) {
    for (const item of value) codesOf(item, out, depth + 1);
  } else if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record['code'] === 'string') {
      const system = typeof record['system'] === 'string' ? record['system'] : undefined;
      out.push(system === undefined ? { code: record['code'] } : { system, code: record['code'] });
    } else if (Array.isArray(record['coding'])) {
      codesOf(record['coding'], out, depth + 1);
    }
  }
  return out;
}

/** A compiled code list: exact codes in a Set, `*` prefixes in a short list. */
export class CodeMatcher {
  readonly system: string | undefined;
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];

  constructor(codes: readonly string[], system?: string) {
    this.system = canonicalSystem(system);
    for (const raw of codes) {
      if (raw.endsWith('*')) this.prefixes.push(normalizeCode(raw.slice(0, -1), this.system));
      else this.exact.add(normalizeCode(raw, this.system));
    }
  }

  /** A code with a different system never matches; a bare code (no system) is judged on the code alone. */
  matches(value: CodeValue): boolean {
    const system = canonicalSystem(value.system);
    if (this.system !== undefined && system !== undefined && system !== this.system) return false;
    const code = normalizeCode(value.code, this.system);
    if (this.exact.has(code)) return true;
    for (const prefix of this.prefixes) if (code.startsWith(prefix)) return true;
    return false;
  }

  /** The exact codes, for the rule index; undefined when prefixes make the list unindexable. */
  indexKeys(): string[] | undefined {
    return this.prefixes.length > 0 ? undefined : [...this.exact];
  }
}
