/**
 * Normalises a hook `context` into one shape per hook (the catalogue in hooks.ts) and checks its required fields.
 * Tolerances (README.md, "Tolerant input"): `Patient/123` ids, absolute references, `draftOrders`/`appointments`
 * as a Bundle of any type or a bare array, and `order-dispatch` 1.0 / kebab-case / 1.1 contexts.
 * Unknown context fields are passed through untouched (CRD hook-23).
 */
import type { HookContextField, HookDefinition } from './hooks.js';
import type { CdsIssue } from './issues.js';
import { isNonEmptyString, isRecord, parseReference, type JsonObject } from './util.js';

export interface ContextNormalization {
  context: JsonObject;
  /** True when `context` differs from what was sent (the caller then keeps the original). */
  changed: boolean;
  warnings: string[];
  issues: CdsIssue[];
}

const ID_FIELD_TYPES: Record<string, string> = { patientId: 'Patient', encounterId: 'Encounter' };

export function normalizeContext(hook: HookDefinition, raw: JsonObject): ContextNormalization {
  const result: ContextNormalization = { context: { ...raw }, changed: false, warnings: [], issues: [] };
  if (hook.hook === 'order-dispatch') normalizeOrderDispatch(result);
  for (const field of hook.context) {
    const value = result.context[field.name];
    if (value === undefined || value === null || value === '') {
      if (value !== undefined) {
        delete result.context[field.name];
        result.changed = true;
      }
      if (field.required) {
        result.issues.push({ path: `context.${field.name}`, message: `${field.name} is required by ${hook.hook}` });
      }
      continue;
    }
    normalizeField(result, field, value);
  }
  return result;
}

function normalizeField(result: ContextNormalization, field: HookContextField, value: unknown): void {
  const path = `context.${field.name}`;
  const fail = (message: string): void => void result.issues.push({ path, message });
  const set = (next: unknown): void => {
    result.context[field.name] = next;
    result.changed = true;
  };
  switch (field.kind) {
    case 'id': {
      if (typeof value !== 'string') return fail(`${field.name} must be a string`);
      const ref = parseReference(value);
      if (ref && ref.type === ID_FIELD_TYPES[field.name]) {
        set(ref.id);
        result.warnings.push(`${path} was a reference; normalised to its id`);
      }
      return;
    }
    case 'reference': {
      if (typeof value !== 'string') return fail(`${field.name} must be a string reference like Practitioner/123`);
      const relative = toRelative(value);
      if (relative !== value) set(relative);
      return;
    }
    case 'references': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.length === 0 || !list.every(isNonEmptyString))
        return fail(`${field.name} must be a non-empty array of references`);
      const relative = list.map(toRelative);
      if (list !== value || relative.some((r, i) => r !== list[i])) set(relative);
      return;
    }
    case 'bundle': {
      const bundle = toCollectionBundle(value);
      if (!bundle) return fail(`${field.name} must be a Bundle or an array of resources`);
      const unchanged =
        isRecord(value) &&
        value.type === 'collection' &&
        (Array.isArray(value.entry) ? value.entry.length : 0) ===
          ((bundle.entry as unknown[] | undefined)?.length ?? 0);
      if (!unchanged) set(bundle);
      return;
    }
    case 'resources': {
      const list = Array.isArray(value) ? value : [value];
      if (list.length === 0 || !list.every((r) => isRecord(r) && typeof r.resourceType === 'string'))
        return fail(`${field.name} must be an array of FHIR resources`);
      if (list !== value) set(list);
      return;
    }
  }
}

/** `https://ehr/fhir/Practitioner/1` → `Practitioner/1`; anything not reference-shaped is kept as sent. */
function toRelative(value: string): string {
  const ref = parseReference(value);
  return ref ? `${ref.type}/${ref.id}` : value;
}

/**
 * A Bundle of type `collection`, from a Bundle of any or no type, or a bare array of resources or entries.
 * Entries that are not resources are dropped (Epic adds Medication entries: those are kept, they are resources).
 */
function toCollectionBundle(value: unknown): JsonObject | undefined {
  let entries: unknown[];
  let base: JsonObject = {};
  if (Array.isArray(value)) {
    entries = value;
  } else if (isRecord(value) && (value.resourceType === 'Bundle' || value.resourceType === undefined)) {
    base = value;
    entries = Array.isArray(value.entry) ? value.entry : [];
    if (value.entry !== undefined && !Array.isArray(value.entry)) return undefined;
  } else {
    return undefined;
  }
  const entry = entries
    .map((e) => (isRecord(e) && typeof e.resourceType === 'string' ? { resource: e } : e))
    .filter((e): e is JsonObject => isRecord(e) && isRecord(e.resource) && typeof e.resource.resourceType === 'string');
  const bundle: JsonObject = { ...base, resourceType: 'Bundle', type: 'collection' };
  if (entry.length > 0) bundle.entry = entry;
  else delete bundle.entry;
  return bundle;
}

/** order-dispatch 1.0 (`order`, `task`) and the 2023 kebab-case draft → 1.1 (`dispatchedOrders`, `fulfillmentTasks`). */
function normalizeOrderDispatch(result: ContextNormalization): void {
  const ctx = result.context;
  const renames: [string, string][] = [
    ['dispatched-orders', 'dispatchedOrders'],
    ['order', 'dispatchedOrders'],
    ['fulfillment-tasks', 'fulfillmentTasks'],
    ['task', 'fulfillmentTasks'],
  ];
  for (const [from, to] of renames) {
    if (!(from in ctx)) continue;
    if (ctx[to] === undefined) {
      ctx[to] = ctx[from];
      result.warnings.push(`context.${from} read as context.${to} (order-dispatch 1.1)`);
    }
    delete ctx[from];
    result.changed = true;
  }
}
