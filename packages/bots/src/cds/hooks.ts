/**
 * The hook catalogue: context fields of each hook in KNOWN_HOOKS (CDS Hooks Library 1.0.1, `order-dispatch`
 * hookVersion 1.1) and which hooks are Da Vinci CRD "primary" hooks (CRD 2.2.1 hooks.md, hook-16: a Coverage
 * Information systemAction is required in the response).
 */
import { KNOWN_HOOKS, type KnownHook } from './types.js';

/** How a context field is shaped on the wire, after normalisation (see normalize-context.ts). */
export type ContextFieldKind = 'id' | 'reference' | 'references' | 'bundle' | 'resources';

export interface HookContextField {
  name: string;
  required: boolean;
  /** May be used as `{{context.<name>}}` in a prefetch template. */
  prefetchToken: boolean;
  kind: ContextFieldKind;
}

export interface HookDefinition {
  hook: KnownHook;
  context: readonly HookContextField[];
  /** A CRD hook (CRD 2.2.1 hooks.md lists six; patient-view is not one). */
  crd: boolean;
  /** A CRD primary hook: the response must carry a Coverage Information systemAction. */
  crdPrimary: boolean;
}

const userId = { name: 'userId', required: true, prefetchToken: true, kind: 'reference' } as const;
const patientId = { name: 'patientId', required: true, prefetchToken: true, kind: 'id' } as const;
const encounterId = { name: 'encounterId', required: false, prefetchToken: true, kind: 'id' } as const;
const draftOrders = { name: 'draftOrders', required: true, prefetchToken: false, kind: 'bundle' } as const;
const encounterContext = [userId, patientId, { ...encounterId, required: true }];

export const HOOK_CATALOGUE: Readonly<Record<KnownHook, HookDefinition>> = {
  'patient-view': { hook: 'patient-view', context: [userId, patientId, encounterId], crd: false, crdPrimary: false },
  'order-select': {
    hook: 'order-select',
    context: [
      userId,
      patientId,
      encounterId,
      { name: 'selections', required: true, prefetchToken: false, kind: 'references' },
      draftOrders,
    ],
    crd: true,
    crdPrimary: false,
  },
  'order-sign': {
    hook: 'order-sign',
    context: [userId, patientId, encounterId, draftOrders],
    crd: true,
    crdPrimary: true,
  },
  // hookVersion 1.1 names; 1.0 (`order`, `task`) and kebab-case drafts are normalised into these.
  'order-dispatch': {
    hook: 'order-dispatch',
    context: [
      patientId,
      { name: 'dispatchedOrders', required: true, prefetchToken: true, kind: 'references' },
      { name: 'performer', required: true, prefetchToken: true, kind: 'reference' },
      { name: 'fulfillmentTasks', required: false, prefetchToken: false, kind: 'resources' },
    ],
    crd: true,
    crdPrimary: true,
  },
  'appointment-book': {
    hook: 'appointment-book',
    context: [
      userId,
      patientId,
      encounterId,
      { name: 'appointments', required: true, prefetchToken: false, kind: 'bundle' },
    ],
    crd: true,
    crdPrimary: true,
  },
  'encounter-start': { hook: 'encounter-start', context: encounterContext, crd: true, crdPrimary: false },
  'encounter-discharge': { hook: 'encounter-discharge', context: encounterContext, crd: true, crdPrimary: false },
};

export const CRD_PRIMARY_HOOKS: readonly KnownHook[] = KNOWN_HOOKS.filter((h) => HOOK_CATALOGUE[h].crdPrimary);

/** Hook names compare case-insensitively (some clients are loose about case). */
export function findHook(hook: string): HookDefinition | undefined {
  const lower = hook.toLowerCase();
  return KNOWN_HOOKS.includes(lower as KnownHook) ? HOOK_CATALOGUE[lower as KnownHook] : undefined;
}

export function isKnownHook(hook: string): hook is KnownHook {
  return (KNOWN_HOOKS as readonly string[]).includes(hook);
}

export function isCrdPrimaryHook(hook: string): boolean {
  return findHook(hook)?.crdPrimary ?? false;
}

export function requiredContextFields(hook: string): string[] {
  return (findHook(hook)?.context ?? []).filter((f) => f.required).map((f) => f.name);
}
