/**
 * SMART on FHIR scopes (App Launch 2.2 §Scopes and Launch Context), v1 (`read`/`write`/`*`) and v2 (`cruds`
 * subsets in that order), for the `patient/`, `user/` and `system/` contexts. v2 scopes may carry a query
 * (`patient/Observation.rs?category=laboratory`), which restricts searches to those parameters.
 */
import type { Interaction } from './access.js';

export type ScopeContext = 'patient' | 'user' | 'system';

export interface ResourceScope {
  context: ScopeContext;
  /** A resource type or `*`. */
  resourceType: string;
  interactions: ReadonlySet<Interaction>;
  /** v2 query restrictions: every parameter must be present with this value in a search. */
  query?: URLSearchParams;
  raw: string;
}

const V1: Record<string, Interaction[]> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': ['c', 'r', 'u', 'd', 's'],
};
const SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)(\?.*)?$/;

/** Parses one scope; undefined when it is not a SMART resource scope (openid, launch, an EHR's own names…). */
export function parseScope(raw: string): ResourceScope | undefined {
  const match = SCOPE.exec(raw);
  if (!match) return undefined;
  const [, context, resourceType, permissions, query] = match as unknown as [
    string,
    ScopeContext,
    string,
    string,
    string?,
  ];
  let interactions: Interaction[] | undefined = V1[permissions];
  if (!interactions) {
    // v2: a non-empty subsequence of c, r, u, d, s in that order.
    if (!/^c?r?u?d?s?$/.test(permissions) || permissions === '') return undefined;
    interactions = [...permissions] as Interaction[];
  } else if (query) {
    return undefined; // queries are a v2 feature
  }
  return {
    context,
    resourceType,
    interactions: new Set(interactions),
    ...(query ? { query: new URLSearchParams(query.slice(1)) } : {}),
    raw,
  };
}

export interface ScopeSet {
  scopes: ResourceScope[];
  /** Scopes that are not SMART resource scopes. */
  other: string[];
}

export function parseScopes(scope: string | undefined): ScopeSet {
  const result: ScopeSet = { scopes: [], other: [] };
  for (const raw of (scope ?? '').split(/\s+/).filter(Boolean)) {
    const parsed = parseScope(raw);
    if (parsed) result.scopes.push(parsed);
    else result.other.push(raw);
  }
  return result;
}

/** The scopes that grant `interaction` on `resourceType` (in any of `contexts`). */
export function grantingScopes(
  set: ScopeSet,
  resourceType: string,
  interaction: Interaction,
  contexts: readonly ScopeContext[] = ['patient', 'user', 'system'],
): ResourceScope[] {
  return set.scopes.filter(
    (s) =>
      contexts.includes(s.context) &&
      (s.resourceType === '*' || s.resourceType === resourceType) &&
      s.interactions.has(interaction),
  );
}

/** Is `requested` covered by `granted`? Used for the token endpoint's `scope` down-scoping (RFC 6749 §3.3). */
export function scopeCovers(granted: ResourceScope, requested: ResourceScope): boolean {
  if (granted.context !== requested.context) return false;
  if (granted.resourceType !== '*' && granted.resourceType !== requested.resourceType) return false;
  for (const i of requested.interactions) if (!granted.interactions.has(i)) return false;
  if (granted.query) {
    if (!requested.query) return false;
    for (const [k, v] of granted.query) if (requested.query.get(k) !== v) return false;
  }
  return true;
}
