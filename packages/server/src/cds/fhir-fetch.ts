/** One GET against an EHR's FHIR server with its bearer token: bounded in time and size, never following redirects. */
import type { Resource } from '@medplum/fhirtypes';
import { HookbotError } from '../infra/errors.js';

export interface FhirFetchOptions {
  accessToken: string;
  timeoutMs?: number;
  maxResponseBytes?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export async function fetchFhirJson(url: string, options: FhirFetchOptions): Promise<Resource> {
  const what = url.split('?')[0]?.replace(/^https?:\/\/[^/]+/, '') ?? '';
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 5000);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      headers: { Authorization: `Bearer ${options.accessToken}`, Accept: 'application/fhir+json' },
      redirect: 'error',
      signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
    });
  } catch (err) {
    const reason =
      err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
        ? 'timed out'
        : 'could not be reached';
    throw new HookbotError('ehr.unreachable', `The EHR FHIR server ${reason} (${what})`);
  }
  const text = await response.text();
  if (text.length > (options.maxResponseBytes ?? 5 * 1024 * 1024)) {
    throw new HookbotError('outbound.response-too-large', `The EHR FHIR response is too large (${what})`);
  }
  if (!response.ok) {
    const notFound = response.status === 404 || response.status === 410;
    throw new HookbotError(
      notFound ? 'ehr.not-found' : 'ehr.error',
      `The EHR FHIR server answered ${response.status} (${what})`,
    );
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || typeof (parsed as Resource).resourceType !== 'string')
      throw new Error();
    return parsed as Resource;
  } catch {
    throw new HookbotError(
      'ehr.unexpected-response',
      `The EHR FHIR server answered something that is not a FHIR resource (${what})`,
    );
  }
}
