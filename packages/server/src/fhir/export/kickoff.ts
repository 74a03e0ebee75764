/**
 * A Bulk Data kick-off request (FHIR Bulk Data Access 2.0, §Bulk Data Kick-off Request) read into what a job runs:
 * the level, the resource types (those asked for, or every type the caller may read), `_since`, and for a Group the
 * Patients it lists then. Parameters come from the query (GET) or a `Parameters` body (POST).
 */
import type { Group, Parameters } from '@medplum/fhirtypes';
import { badRequest, forbidden } from '../../infra/errors.js';
import { compartmentParams } from '../compartment.js';
import type { Repository } from '../repository.js';
import { isSupportedResourceType, RESOURCE_TYPES } from '../resource-types.js';

export type ExportLevel = 'system' | 'patient' | 'group';

/** What a job exports, fixed at kick-off (stored as `export_jobs.spec`). */
export interface ExportSpec {
  level: ExportLevel;
  groupId?: string;
  /** In the order they are exported. */
  types: string[];
  /** ISO instant: only resources last updated after it. */
  since?: string;
  /** Patient and Group level: only these Patients' compartments (a Group's members, the POST `patient` parameter). */
  patients?: string[];
}

/** The `_outputFormat`s the spec names for NDJSON; the files are `application/fhir+ndjson` whichever is asked. */
const OUTPUT_FORMATS = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];
const SUPPORTED_PARAMS = new Set(['_outputFormat', '_since', '_type', 'patient']);
/** A FHIR instant: a full date and time with a time zone. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** One kick-off's parameters, each with its values in order, whether from the query or a Parameters body. */
export type KickoffParams = Map<string, string[]>;

export function queryParams(query: URLSearchParams): KickoffParams {
  const params: KickoffParams = new Map();
  for (const [name, value] of query) params.set(name, [...(params.get(name) ?? []), value]);
  return params;
}

/** A POST kick-off's `Parameters` body (`valueString`, `valueInstant`, `valueReference` for `patient`). */
export function bodyParams(body: unknown): KickoffParams {
  const parameters = body as Parameters | undefined;
  if (typeof body !== 'object' || body === null || parameters?.resourceType !== 'Parameters') {
    throw badRequest('fhir.invalid-export', 'A POST $export takes a Parameters resource', 'resourceType');
  }
  const params: KickoffParams = new Map();
  for (const [i, p] of (parameters.parameter ?? []).entries()) {
    const value = p.valueString ?? p.valueInstant ?? p.valueDateTime ?? p.valueCode ?? p.valueReference?.reference;
    if (typeof p.name !== 'string' || typeof value !== 'string') {
      throw badRequest('fhir.invalid-export', 'Each parameter needs a name and a value', `Parameters.parameter[${i}]`);
    }
    params.set(p.name, [...(params.get(p.name) ?? []), value]);
  }
  return params;
}

/**
 * `Prefer: respond-async` is required (400 without it); `handling=lenient` lets unsupported parameters be ignored
 * instead of refused (spec: "Servers SHOULD ... return an error ... unless handling=lenient").
 */
export function preferences(header: string): { lenient: boolean } {
  const tokens = header
    .split(',')
    .flatMap((part) => part.split(';'))
    .map((t) => t.trim().toLowerCase().replace(/\s+/g, ''));
  if (!tokens.includes('respond-async')) {
    throw badRequest('fhir.invalid-export', 'A $export kick-off needs the header "Prefer: respond-async"', 'Prefer');
  }
  return { lenient: tokens.includes('handling=lenient') };
}

const last = (params: KickoffParams, name: string) => params.get(name)?.at(-1);

/**
 * The job's spec for the caller: types outside its read and search scopes are a 403 when named in `_type`, and left
 * out otherwise; at Patient and Group level only the types of the Patient compartment are exported.
 */
export async function exportSpec(
  repo: Repository,
  level: ExportLevel,
  params: KickoffParams,
  lenient: boolean,
  groupId?: string,
): Promise<ExportSpec> {
  for (const name of params.keys()) {
    if (!SUPPORTED_PARAMS.has(name) && !lenient) {
      throw badRequest('fhir.invalid-export', `The $export parameter "${name}" is not supported`, name);
    }
  }
  const format = last(params, '_outputFormat');
  if (format !== undefined && !OUTPUT_FORMATS.includes(format)) {
    throw badRequest(
      'fhir.invalid-export',
      `_outputFormat must be one of ${OUTPUT_FORMATS.join(', ')}: only NDJSON is written`,
      '_outputFormat',
    );
  }
  const since = last(params, '_since');
  if (since !== undefined && (!INSTANT.test(since) || Number.isNaN(Date.parse(since)))) {
    throw badRequest('fhir.invalid-export', '_since must be a FHIR instant, e.g. 2024-01-31T00:00:00Z', '_since');
  }
  const inScope = (type: string) => repo.access.allows(type, 'r') && repo.access.allows(type, 's');
  const levelTypes = (level === 'system' ? [...RESOURCE_TYPES] : compartmentTypes()) as string[];
  const named = (params.get('_type') ?? []).flatMap((v) => v.split(',')).map((t) => t.trim());
  let types: string[];
  if (named.length > 0) {
    for (const type of named) {
      if (!isSupportedResourceType(type)) {
        throw badRequest('fhir.invalid-export', `_type: ${type} is not a resource type this server stores`, '_type');
      }
      if (!levelTypes.includes(type)) {
        throw badRequest('fhir.invalid-export', `_type: ${type} is not in the Patient compartment`, '_type');
      }
      if (!inScope(type)) throw forbidden('auth.forbidden-scope', `Not allowed to export ${type}`);
    }
    types = [...new Set(named)];
  } else {
    types = levelTypes.filter(inScope);
  }
  if (types.length === 0) throw forbidden('auth.forbidden-scope', 'Not allowed to export any resource type');

  const spec: ExportSpec = { level, types, ...(since ? { since: new Date(since).toISOString() } : {}) };
  const patients = (params.get('patient') ?? []).map((ref) => patientId(ref));
  if (level === 'system' && patients.length > 0 && !lenient) {
    throw badRequest('fhir.invalid-export', 'patient applies to Patient and Group level exports only', 'patient');
  }
  if (level === 'group') {
    const group = await repo.read<Group>('Group', groupId ?? '');
    const members = (group.member ?? [])
      .filter((m) => !m.inactive)
      .map((m) => m.entity.reference ?? '')
      .filter((ref) => /^Patient\/[^/]+$/.test(ref))
      .map((ref) => ref.slice('Patient/'.length));
    spec.groupId = group.id as string;
    spec.patients = patients.length > 0 ? members.filter((id) => patients.includes(id)) : [...new Set(members)];
  } else if (level === 'patient' && patients.length > 0) {
    spec.patients = [...new Set(patients)];
  }
  return spec;
}

function patientId(reference: string): string {
  const match = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(reference);
  if (!match)
    throw badRequest('fhir.invalid-export', `patient must reference a Patient, got "${reference}"`, 'patient');
  return match[1] as string;
}

/** The Patient itself and every type the R4 Patient CompartmentDefinition ties to a Patient. */
export function compartmentTypes(): string[] {
  return RESOURCE_TYPES.filter((t) => t === 'Patient' || compartmentParams(t).length > 0);
}
