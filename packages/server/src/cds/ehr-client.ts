/**
 * The `medplum` client a CDS bot gets: it talks to the EHR's `fhirServer` with the EHR's token and is limited to
 * what `fhirAuthorization.scope` grants, checked here before anything is sent (SMART App Launch 2.2 scopes):
 * - `user/` and `system/` scopes grant the type; `patient/` scopes only the context patient's compartment;
 * - v2 scopes with a query (`patient/Observation.rs?category=laboratory`) only searches carrying that query
 *   (and reads proven to match it by a search on `_id`);
 * - scopes that are not SMART (Epic sends its own API names) grant reads and searches inside the context
 *   patient's compartment, and nothing else.
 * CDS services change EHR data only by proposing suggestions, so this client neither creates, updates nor deletes.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Interaction } from '../auth/access.js';
import { grantingScopes, parseScopes, type ResourceScope, type ScopeSet } from '../auth/scopes.js';
import { HookbotError } from '../infra/errors.js';
import type { BotFhirClient } from '../bots/fhir-client-bridge.js';
import { fetchFhirJson } from './fhir-fetch.js';
import { compartmentSearchParam } from './patient-compartment.js';
import { inPatientCompartment } from '../fhir/compartment.js';

export interface EhrClientOptions {
  fhirServer: string;
  accessToken: string;
  scope: string;
  patientId?: string;
  timeoutMs?: number;
  maxResponseBytes?: number;
  fetch?: typeof fetch;
  /** Runs before every request to fhirServer (the SSRF guard, memoised by the caller). */
  beforeFetch?: () => Promise<void>;
}

const TYPE = /^[A-Z][A-Za-z]{1,63}$/;
const ID = /^[A-Za-z0-9\-.]{1,256}$/;

const SMART_NON_RESOURCE = /^(openid|fhirUser|profile|offline_access|online_access|launch(\/[A-Za-z]+)?)$/;

const denied = (message: string) => new HookbotError('ehr.scope-not-granted', message);

interface Grant {
  /** Must stay inside the context patient's compartment. */
  patientOnly: boolean;
  /** Query restrictions of the granting scopes (any one suffices). */
  queries: URLSearchParams[];
}

function grantFor(set: ScopeSet, type: string, interaction: Interaction, patientId: string | undefined): Grant {
  const noun = interaction === 'r' ? 'read' : 'search';
  if (set.scopes.length === 0) {
    // No scope, or only SMART's non-resource scopes (openid, launch…), grants nothing; an EHR's own API names
    // (Epic) grant reads inside the context patient's compartment.
    if (!set.other.some((s) => !SMART_NON_RESOURCE.test(s))) {
      throw denied(`fhirAuthorization scope grants no FHIR access: no ${noun} of ${type} is allowed`);
    }
    if (!patientId) {
      throw denied(`The EHR's scopes are not SMART scopes and name no patient: no ${noun} of ${type} is allowed`);
    }
    return { patientOnly: true, queries: [] };
  }
  const scopes: ResourceScope[] = grantingScopes(set, type, interaction);
  if (scopes.length === 0) throw denied(`fhirAuthorization scope does not allow ${noun} of ${type}`);
  // Any granting scope suffices; when several apply, the least restrictive reading is chosen in this order.
  const open = scopes.filter((s) => !s.query);
  if (open.some((s) => s.context !== 'patient')) return { patientOnly: false, queries: [] };
  const needPatient = () => {
    if (!patientId) throw denied(`A patient/ scope grants ${type} but the request names no patient`);
  };
  if (open.length) {
    needPatient();
    return { patientOnly: true, queries: [] };
  }
  const broad = scopes.filter((s) => s.context !== 'patient');
  if (broad.length) return { patientOnly: false, queries: broad.map((s) => s.query as URLSearchParams) };
  needPatient();
  return { patientOnly: true, queries: scopes.map((s) => s.query as URLSearchParams) };
}

function satisfiesQuery(params: URLSearchParams, queries: URLSearchParams[]): boolean {
  if (queries.length === 0) return true;
  return queries.some((q) => [...q].every(([k, v]) => params.getAll(k).includes(v)));
}

export function ehrClient(options: EhrClientOptions): BotFhirClient {
  const scopes = parseScopes(options.scope);
  const base = options.fhirServer.replace(/\/+$/, '');

  const get = async (path: string): Promise<Resource> => {
    await options.beforeFetch?.();
    return fetchFhirJson(`${base}/${path}`, {
      accessToken: options.accessToken,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.maxResponseBytes ? { maxResponseBytes: options.maxResponseBytes } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  };

  /** Refuses, before anything is sent, what cannot be inside the context patient's compartment. */
  function checkCompartment(type: string, grant: Grant, id?: string): void {
    if (!grant.patientOnly) return;
    if (type === 'Patient' ? id !== undefined && id !== options.patientId : !compartmentSearchParam(type)) {
      throw denied(`${type}${id ? `/${id}` : ''} is outside the context patient's compartment`);
    }
  }

  async function search(type: string, params: URLSearchParams, grant: Grant): Promise<Resource[]> {
    const query = new URLSearchParams(params);
    if (grant.patientOnly) {
      const param = compartmentSearchParam(type);
      if (!param) throw denied(`${type} is not in the patient compartment`);
      const value = param === '_id' ? (options.patientId as string) : `Patient/${options.patientId}`;
      if (param !== '_id' && query.getAll(param).some((v) => v !== value && v !== options.patientId)) {
        throw denied(`fhirAuthorization scope allows ${type} searches only for the context patient`);
      }
      query.set(param, value);
    }
    const bundle = (await get(`${type}?${query}`)) as Bundle;
    // Only matches: `_include`d resources were not asked for under the scope's query.
    const found = (bundle.entry ?? [])
      .filter((e) => e.search?.mode === undefined || e.search.mode === 'match')
      .map((e) => e.resource)
      .filter((r): r is Resource => !!r && r.resourceType === type);
    return grant.patientOnly ? found.filter((r) => inPatientCompartment(r, options.patientId as string)) : found;
  }

  return {
    async readResource(type, id) {
      if (!TYPE.test(type) || !ID.test(id))
        throw new HookbotError('ehr.invalid-request', 'Invalid resource type or id');
      const grant = grantFor(scopes, type, 'r', options.patientId);
      checkCompartment(type, grant, id);
      if (grant.queries.length) {
        for (const q of grant.queries) {
          const params = new URLSearchParams(q);
          params.set('_id', id);
          const [hit] = await search(type, params, grant);
          if (hit) return hit;
        }
        throw denied(`${type}/${id} is outside what the fhirAuthorization scope allows`);
      }
      const resource = await get(`${type}/${encodeURIComponent(id)}`);
      if (resource.resourceType !== type)
        throw new HookbotError('ehr.unexpected-response', 'The EHR answered a different resource type');
      if (grant.patientOnly && !inPatientCompartment(resource, options.patientId as string)) {
        throw denied(`${type}/${id} does not belong to the context patient`);
      }
      return resource;
    },
    async searchResources(type, params) {
      if (!TYPE.test(type)) throw new HookbotError('ehr.invalid-request', 'Invalid resource type');
      const grant = grantFor(scopes, type, 's', options.patientId);
      checkCompartment(type, grant);
      if (!satisfiesQuery(params, grant.queries)) {
        throw denied(
          `fhirAuthorization scope allows ${type} searches only with ${grant.queries.map((q) => q.toString()).join(' or ')}`,
        );
      }
      return search(type, params, grant);
    },
  };
}

/** The client a bot gets when the EHR sent no `fhirAuthorization`: nothing of the EHR's is reachable. */
export const noEhrAccess: BotFhirClient = {
  readResource: () => Promise.reject(denied('The EHR sent no fhirAuthorization: its FHIR server is not reachable')),
  searchResources: () => Promise.reject(denied('The EHR sent no fhirAuthorization: its FHIR server is not reachable')),
};
