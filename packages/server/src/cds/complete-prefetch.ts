/**
 * CDS Hooks "Prefetch": for every template key the request lacks (absent, null, or an OperationOutcome), render
 * the template and fetch it from `fhirServer` with the EHR's token, all in parallel under one deadline. A key
 * whose template cannot be rendered (the context lacks an optional value) or whose read answers 404 becomes null:
 * there is nothing to fetch. A key that cannot be fetched at all is reported, and the invocation answers 412.
 */
import type { Resource } from '@medplum/fhirtypes';
import {
  missingPrefetchKeys,
  renderPrefetchTemplate,
  type CdsPrefetchTemplate,
  type NormalizedCdsRequest,
} from '@hookbot/bots';
import { HookbotError } from '../infra/errors.js';
import { fetchFhirJson } from './fhir-fetch.js';

interface PrefetchFailure {
  key: string;
  reason: string;
}

export interface PrefetchCompletion {
  prefetch: Record<string, Resource | null>;
  fetched: string[];
  failures: PrefetchFailure[];
}

export interface CompletePrefetchInput {
  templates: CdsPrefetchTemplate[];
  request: NormalizedCdsRequest;
  deadlineMs: number;
  fetch?: typeof fetch;
  /** Runs before the first request to fhirServer (the SSRF guard); its error fails the invocation. */
  beforeFetch?: () => Promise<void>;
}

export async function completePrefetch(input: CompletePrefetchInput): Promise<PrefetchCompletion> {
  const { request, templates } = input;
  const prefetch: Record<string, Resource | null> = { ...(request.prefetch ?? {}) };
  const missing = missingPrefetchKeys(templates, request.prefetch);
  const result: PrefetchCompletion = { prefetch, fetched: [], failures: [] };
  if (missing.length === 0) return result;
  const deadline = AbortSignal.timeout(input.deadlineMs);
  await Promise.all(
    missing.map(async (key) => {
      const template = templates.find((t) => t.key === key) as CdsPrefetchTemplate;
      const rendered = renderPrefetchTemplate(template.query, request);
      if (!rendered.ok) {
        prefetch[key] = null;
        return;
      }
      if (!request.fhirServer || !request.fhirAuthorization) {
        // An explicit null is the client saying it has no data (CDS Hooks 2.0 "Prefetch"): with nothing to fetch
        // it from, that is an answer, not a failure.
        if (request.prefetch?.[key] === null) {
          prefetch[key] = null;
          return;
        }
        result.failures.push({
          key,
          reason: 'not supplied, and the request has no fhirServer and fhirAuthorization to fetch it',
        });
        return;
      }
      await input.beforeFetch?.();
      try {
        prefetch[key] = await fetchFhirJson(`${request.fhirServer}/${rendered.url}`, {
          accessToken: request.fhirAuthorization.access_token,
          timeoutMs: input.deadlineMs,
          signal: deadline,
          ...(input.fetch ? { fetch: input.fetch } : {}),
        });
        result.fetched.push(key);
      } catch (err) {
        if (err instanceof HookbotError && err.status === 404) {
          prefetch[key] = null;
          return;
        }
        result.failures.push({ key, reason: err instanceof Error ? err.message : 'fetch failed' });
      }
    }),
  );
  return result;
}
