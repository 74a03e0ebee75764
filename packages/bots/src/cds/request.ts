/**
 * validateCdsRequest: an untrusted CDS Hooks request body + the service's `cdsService` → a normalised request and
 * warnings, or the list of issues (each naming the field). Never throws.
 *
 * Strict on what the spec requires (`hook`, `context` and the hook's required fields, `fhirServer` with
 * `fhirAuthorization`, `access_token`, `token_type: Bearer`); tolerant of what real clients send (README.md, "Tolerant input").
 */
import type { Resource } from '@medplum/fhirtypes';
import { findHook } from './hooks.js';
import type { CdsIssue } from './issues.js';
import { normalizeContext } from './normalize-context.js';
import type { BotCdsService } from './types.js';
import {
  isAbsoluteHttpUrl,
  isNonEmptyString,
  isRecord,
  isUuid,
  parseReference,
  randomUuid,
  type JsonObject,
} from './util.js';

/** `fhirAuthorization` after normalisation: only `access_token` and `token_type` are required of the client. */
export interface NormalizedFhirAuthorization {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds; absent when the client sent none or garbage (it is a hint: the token may be revoked earlier). */
  expires_in?: number;
  /** Space-separated scopes as sent; empty when missing (no scopes granted). */
  scope: string;
  subject?: string;
  /** A Patient id (a `Patient/` prefix is removed). */
  patient?: string;
}

export type PrefetchValue = Resource | null;

export interface NormalizedCdsRequest {
  /** The service's hook name (the request's may differ in case). */
  hook: string;
  /** `hookInstance` as sent when it is a non-empty string, otherwise generated. Never use it to deduplicate. */
  hookInstance: string;
  /** A UUID for the audit record: `hookInstance` when it is a UUID, otherwise generated. */
  auditHookInstance: string;
  /** Absolute URL without trailing slash. */
  fhirServer?: string;
  fhirAuthorization?: NormalizedFhirAuthorization;
  /** Normalised context (see normalize-context.ts). */
  context: JsonObject;
  /** The context as sent, present only when normalisation changed it. */
  originalContext?: JsonObject;
  /** Supplied prefetch; a key is absent when the client did not supply it. OperationOutcome entries removed. */
  prefetch?: Record<string, PrefetchValue>;
  /** Request-level extensions as sent (e.g. Epic's `com.epic.cdshooks.request.*`). */
  extension?: JsonObject;
}

export type CdsRequestValidation =
  { ok: true; request: NormalizedCdsRequest; warnings: string[] } | { ok: false; issues: CdsIssue[] };

export function validateCdsRequest(body: unknown, service: BotCdsService): CdsRequestValidation {
  try {
    return validate(body, service);
  } catch {
    // Defensive: the checks below only read plain JSON, but a malformed request must never become a 5xx.
    return { ok: false, issues: [{ path: '', message: 'The request could not be read as a CDS Hooks request' }] };
  }
}

function validate(body: unknown, service: BotCdsService): CdsRequestValidation {
  if (!isRecord(body)) {
    return { ok: false, issues: [{ path: '', message: 'The request body must be a JSON object' }] };
  }
  const issues: CdsIssue[] = [];
  const warnings: string[] = [];

  if (typeof body.hook !== 'string' || body.hook.length === 0) {
    issues.push({ path: 'hook', message: `hook is required and must be "${service.hook}"` });
  } else if (body.hook.toLowerCase() !== service.hook.toLowerCase()) {
    issues.push({ path: 'hook', message: `This service answers "${service.hook}", not "${body.hook}"` });
  } else if (body.hook !== service.hook) {
    warnings.push(`hook "${body.hook}" matched "${service.hook}" ignoring case`);
  }

  let hookInstance: string;
  let auditHookInstance: string;
  if (isNonEmptyString(body.hookInstance)) {
    hookInstance = body.hookInstance;
    auditHookInstance = isUuid(hookInstance) ? hookInstance : randomUuid();
    if (auditHookInstance !== hookInstance)
      warnings.push('hookInstance is not a UUID; a UUID was generated for the audit');
  } else {
    hookInstance = auditHookInstance = randomUuid();
    warnings.push('hookInstance is missing; a UUID was generated');
  }

  const request: NormalizedCdsRequest = { hook: service.hook, hookInstance, auditHookInstance, context: {} };

  if (!isRecord(body.context)) {
    issues.push({ path: 'context', message: 'context is required and must be an object' });
  } else {
    const hookDef = findHook(service.hook);
    if (hookDef) {
      const normalized = normalizeContext(hookDef, body.context);
      issues.push(...normalized.issues);
      warnings.push(...normalized.warnings);
      request.context = normalized.context;
      if (normalized.changed) request.originalContext = body.context;
    } else {
      request.context = { ...body.context };
    }
  }

  if (body.fhirServer !== undefined && body.fhirServer !== null) {
    if (isAbsoluteHttpUrl(body.fhirServer)) request.fhirServer = body.fhirServer.replace(/\/+$/, '');
    else issues.push({ path: 'fhirServer', message: 'fhirServer must be an absolute http(s) URL' });
  }

  if (body.fhirAuthorization !== undefined && body.fhirAuthorization !== null) {
    const auth = readFhirAuthorization(body.fhirAuthorization, issues, warnings);
    if (auth) request.fhirAuthorization = auth;
    if (body.fhirServer === undefined || body.fhirServer === null) {
      issues.push({ path: 'fhirServer', message: 'fhirServer is required when fhirAuthorization is sent' });
    }
  }

  if (body.prefetch !== undefined && body.prefetch !== null) {
    if (isRecord(body.prefetch)) request.prefetch = readPrefetch(body.prefetch, warnings);
    else issues.push({ path: 'prefetch', message: 'prefetch must be an object of key → resource' });
  }

  if (isRecord(body.extension)) request.extension = body.extension;

  return issues.length > 0 ? { ok: false, issues } : { ok: true, request, warnings };
}

function readFhirAuthorization(
  value: unknown,
  issues: CdsIssue[],
  warnings: string[],
): NormalizedFhirAuthorization | undefined {
  if (!isRecord(value)) {
    issues.push({ path: 'fhirAuthorization', message: 'fhirAuthorization must be an object' });
    return undefined;
  }
  const before = issues.length;
  if (!isNonEmptyString(value.access_token)) {
    issues.push({ path: 'fhirAuthorization.access_token', message: 'access_token is required' });
  }
  if (typeof value.token_type !== 'string' || value.token_type.toLowerCase() !== 'bearer') {
    issues.push({ path: 'fhirAuthorization.token_type', message: 'token_type must be "Bearer"' });
  }
  if (issues.length > before) return undefined;

  const auth: NormalizedFhirAuthorization = {
    access_token: value.access_token as string,
    token_type: 'Bearer',
    scope: typeof value.scope === 'string' ? value.scope : '',
  };
  if (typeof value.scope !== 'string') warnings.push('fhirAuthorization.scope is missing: no scopes granted');
  const expiresIn = readSeconds(value.expires_in);
  if (expiresIn !== undefined) auth.expires_in = expiresIn;
  else if (value.expires_in !== undefined) warnings.push('fhirAuthorization.expires_in is not a number; ignored');
  if (typeof value.expires_in === 'string' && expiresIn !== undefined) {
    warnings.push('fhirAuthorization.expires_in was a string; read as a number');
  }
  if (isNonEmptyString(value.subject)) auth.subject = value.subject;
  if (isNonEmptyString(value.patient)) {
    const ref = parseReference(value.patient);
    auth.patient = ref?.type === 'Patient' ? ref.id : value.patient;
  }
  return auth;
}

function readSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

/**
 * Each key is a resource, `null` (no data), or dropped when unusable (so it counts as not supplied).
 * OperationOutcome entries are removed from searchset/collection Bundles (Epic sends one for an empty search).
 */
function readPrefetch(raw: JsonObject, warnings: string[]): Record<string, PrefetchValue> {
  const prefetch: Record<string, PrefetchValue> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === null) {
      prefetch[key] = null;
    } else if (isRecord(value) && typeof value.resourceType === 'string') {
      prefetch[key] = stripOutcomeEntries(value) as unknown as Resource;
    } else {
      warnings.push(`prefetch.${key} is not a FHIR resource; treated as not supplied`);
    }
  }
  return prefetch;
}

function stripOutcomeEntries(resource: JsonObject): JsonObject {
  if (resource.resourceType !== 'Bundle' || !Array.isArray(resource.entry)) return resource;
  if (resource.type !== 'searchset' && resource.type !== 'collection') return resource;
  const entry = resource.entry.filter((e) => {
    if (!isRecord(e)) return false;
    const search = isRecord(e.search) ? e.search : undefined;
    return !(isRecord(e.resource) && e.resource.resourceType === 'OperationOutcome') && search?.mode !== 'outcome';
  });
  if (entry.length === resource.entry.length) return resource;
  const copy: JsonObject = { ...resource };
  if (entry.length > 0) copy.entry = entry;
  else delete copy.entry;
  return copy;
}
