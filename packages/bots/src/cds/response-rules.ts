/**
 * Building blocks of validateCdsResponse: a collector of errors and warnings, the action rules (shared by
 * suggestions and systemActions), Codings, and the walk that finds empty values.
 */
import { joinPath, type CdsIssue } from './issues.js';
import { isAbsoluteHttpUrl, isNonEmptyString, isRecord, parseReference, type JsonObject } from './util.js';

export const COVERAGE_INFORMATION_URL =
  'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';

export class IssueCollector {
  readonly errors: CdsIssue[] = [];
  readonly warnings: CdsIssue[] = [];
  error(path: string, message: string): void {
    this.errors.push({ path, message });
  }
  warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }
}

/**
 * Members outside the spec's are errors: CDS Hooks 2.0 "Extensions" reserves `extension` for additions, and an
 * unknown member is most often a typo (`detial`) the EHR would silently drop. Strict in what we send.
 */
export function checkMembers(out: IssueCollector, path: string, value: JsonObject, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (key === 'extension') {
      if (!isRecord(value.extension)) out.error(joinPath(path, 'extension'), 'extension must be an object');
    } else if (!allowed.includes(key)) {
      out.error(joinPath(path, key), `Unknown member ${key}: put additions in extension`);
    }
  }
}

export function checkOptionalString(out: IssueCollector, path: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') out.error(path, 'must be a string');
}

export function checkAbsoluteUrl(out: IssueCollector, path: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (!isAbsoluteHttpUrl(value))
    out.error(path, required ? 'An absolute http(s) URL is required' : 'must be an absolute http(s) URL');
}

/** CDS Hooks 2.0 "Coding": `system` and `code` required; `display` required where the caller says so. */
export function checkCoding(out: IssueCollector, path: string, value: unknown, needDisplay: boolean): void {
  if (!isRecord(value)) return out.error(path, 'must be a Coding object');
  if (!isNonEmptyString(value.system)) out.error(`${path}.system`, 'system is required');
  if (!isNonEmptyString(value.code)) out.error(`${path}.code`, 'code is required');
  if (needDisplay && !isNonEmptyString(value.display)) out.error(`${path}.display`, 'display is required');
  checkOptionalString(out, `${path}.display`, value.display);
  checkMembers(out, path, value, ['system', 'code', 'display']);
}

const ACTION_TYPES = ['create', 'update', 'delete'];

/** CDS Hooks 2.0 "Action": for card suggestions and systemActions alike. */
export function checkAction(out: IssueCollector, path: string, action: unknown): void {
  if (!isRecord(action)) return out.error(path, 'An action must be an object');
  checkMembers(out, path, action, ['type', 'description', 'resource', 'resourceId']);
  if (typeof action.type !== 'string' || !ACTION_TYPES.includes(action.type)) {
    out.error(`${path}.type`, 'type must be create, update or delete');
  }
  if (!isNonEmptyString(action.description)) out.error(`${path}.description`, 'description is required');
  if (action.resource !== undefined && !(isRecord(action.resource) && isNonEmptyString(action.resource.resourceType))) {
    out.error(`${path}.resource`, 'resource must be a FHIR resource with a resourceType');
  }
  if ((action.type === 'create' || action.type === 'update') && action.resource === undefined) {
    out.error(`${path}.resource`, `A ${action.type} action needs the FHIR resource`);
  }
  if (action.type === 'delete' && action.resourceId === undefined) {
    out.error(`${path}.resourceId`, 'A delete action needs resourceId (Type/id)');
  }
  if (action.resourceId !== undefined) {
    const ref = typeof action.resourceId === 'string' ? parseReference(action.resourceId) : undefined;
    if (!ref || action.resourceId !== `${ref.type}/${ref.id}`) {
      out.error(`${path}.resourceId`, 'resourceId must be a relative reference Type/id');
    }
  }
}

/** A systemAction carrying the CRD coverage-information extension on the updated request resource. */
export function isCoverageInformationAction(action: unknown): boolean {
  return (
    isRecord(action) &&
    action.type === 'update' &&
    isRecord(action.resource) &&
    Array.isArray(action.resource.extension) &&
    action.resource.extension.some((e) => isRecord(e) && e.url === COVERAGE_INFORMATION_URL)
  );
}

const COVERAGE_INFO_REQUIRED = ['coverage', 'covered', 'date', 'coverage-assertion-id'];

/** CRD profile CRDHooksResponse-coverageInformation: no resourceId; each repetition has its 1..1 sub-extensions. */
export function checkCoverageInformationAction(out: IssueCollector, path: string, action: JsonObject): void {
  if (action.resourceId !== undefined)
    out.error(`${path}.resourceId`, 'A coverage-information action has no resourceId');
  const resource = action.resource as JsonObject;
  (resource.extension as unknown[]).forEach((ext, i) => {
    if (!isRecord(ext) || ext.url !== COVERAGE_INFORMATION_URL) return;
    const extPath = `${path}.resource.extension[${i}]`;
    const parts = Array.isArray(ext.extension) ? ext.extension.filter(isRecord) : [];
    for (const url of COVERAGE_INFO_REQUIRED) {
      if (parts.filter((p) => p.url === url).length !== 1) {
        out.error(extPath, `coverage-information needs exactly one ${url}`);
      }
    }
  });
}

const MAX_DEPTH = 64;

/**
 * CDS Hooks 2.0 "Use of JSON": no `null`, `""`, `[]` or `{}` anywhere (FHIR JSON has the same rule).
 * `cards: []` at the top is the one allowed empty value.
 */
export function findEmptyValues(out: IssueCollector, value: unknown, path: string, depth = 0): void {
  if (depth > MAX_DEPTH) return out.error(path, `Nested deeper than ${MAX_DEPTH} levels`);
  if (value === null) out.error(path, 'null is not allowed: omit the member');
  else if (value === '') out.error(path, 'Empty strings are not allowed: omit the member');
  else if (Array.isArray(value)) {
    if (value.length === 0 && path !== 'cards') out.error(path, 'Empty arrays are not allowed: omit the member');
    value.forEach((item, i) => findEmptyValues(out, item, `${path}[${i}]`, depth + 1));
  } else if (isRecord(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0 && path !== '') out.error(path, 'Empty objects are not allowed: omit the member');
    for (const [key, item] of entries) findEmptyValues(out, item, joinPath(path, key), depth + 1);
  }
}
