/**
 * `POST /cds-services/{id}`: load the service (cached) → validate the request → check `fhirServer` (SSRF) →
 * complete prefetch → run the bot with the EHR-scoped and payer clients → validate the response (CDS Hooks, and
 * CRD rules for CRD services) → audit (batched, off the critical path). Each step is a plain function; the route
 * only calls this one.
 */
import type { HostCall } from '@hookbot/runtime';
import {
  isKnownHook,
  validateCdsRequest,
  validateCdsResponse,
  type CdsBot,
  type CdsResponse,
  type NormalizedCdsRequest,
} from '@hookbot/bots';
import { HookbotError, invalidIssues, locatedIssues } from '../infra/errors.js';
import { outboundFetch } from '../infra/outbound-fetch.js';
import { checkOutboundUrl } from '../infra/outbound-url.js';
import type { Services } from '../services.js';
import { dispatchClientCall, readOnlyClient, type BotFhirClient } from '../bots/fhir-client-bridge.js';
import { whileOpen } from '../bots/execute.js';
import { judgeRun, runAudited } from '../bots/run-audited.js';
import { runFailureError } from '../bots/run-bot.js';
import type { CdsCaller } from './authenticate.js';
import { completePrefetch } from './complete-prefetch.js';
import { ehrClient, noEhrAccess } from './ehr-client.js';
import { ID_PATTERN } from '../fhir/resource-types.js';

const PREFETCH_DEADLINE_MS = 4000;

export interface InvokeInput {
  services: Services;
  caller: CdsCaller;
  serviceId: string;
  body: unknown;
  requestIds?: { requestId: string; traceId: string };
}

const notAService = (id: string) =>
  new HookbotError(
    'cds.service-not-found',
    isKnownHook(id.toLowerCase())
      ? `"${id}" is a hook name, not a service id: call GET /cds-services and POST to /cds-services/{id} with the id of the service for that hook`
      : `No CDS service with id "${id}": call GET /cds-services for the list`,
  );

async function loadService(services: Services, projectId: string, id: string) {
  if (!ID_PATTERN.test(id)) throw notAService(id);
  try {
    // The Bot first: a Bot that is not a CDS service is a 404 whether or not it has code.
    const { bot } = (await services.bots.get(projectId, id)) as { bot: CdsBot };
    if (!bot.cdsService?.hook) throw notAService(id);
    const entry = await services.bots.getWithCode(projectId, id);
    return { ...entry, bot: entry.bot as CdsBot, cdsService: bot.cdsService };
  } catch (err) {
    if (err instanceof HookbotError && (err.status === 404 || err.status === 410)) throw notAService(id);
    throw err;
  }
}

function patientOf(request: NormalizedCdsRequest): string | undefined {
  const fromContext = request.context.patientId;
  return request.fhirAuthorization?.patient ?? (typeof fromContext === 'string' ? fromContext : undefined);
}

function onceGuard(services: Services, projectId: string, fhirServer: string): () => Promise<void> {
  let checked: Promise<void> | undefined;
  return () =>
    (checked ??= (async () => {
      const { allowedBaseUrls } = await services.settings.get(projectId);
      await checkOutboundUrl(fhirServer, { development: services.config.development, allowedBaseUrls }, 'fhirServer');
    })());
}

/** Fetches to the EHR go through the SSRF guard again at connect time, with the project's allowed base URLs. */
function projectFetch(services: Services, projectId: string): typeof fetch {
  let impl: Promise<typeof fetch> | undefined;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    impl ??= services.settings
      .get(projectId)
      .then(({ allowedBaseUrls }) => outboundFetch({ development: services.config.development, allowedBaseUrls }));
    return (await impl)(input, init);
  }) as typeof fetch;
}

export async function invokeService(input: InvokeInput): Promise<CdsResponse> {
  const { services, caller } = input;
  const started = performance.now();
  const service = await loadService(services, caller.projectId, input.serviceId);
  // Once the service is known (an unknown id is no series): every answer, cards or error, is timed.
  try {
    return await invokeLoaded(input, service, started);
  } finally {
    services.metrics.observeHook(input.serviceId, service.cdsService.hook, (performance.now() - started) / 1000);
  }
}

async function invokeLoaded(
  input: InvokeInput,
  service: Awaited<ReturnType<typeof loadService>>,
  started: number,
): Promise<CdsResponse> {
  const { services, caller } = input;
  const validation = validateCdsRequest(input.body, service.cdsService);
  if (!validation.ok) throw invalidIssues('cds.invalid-request', locatedIssues(validation.issues));
  const request = validation.request;

  // fhirServer is checked (SSRF) before the first request to it, not before: a request whose prefetch is complete
  // and whose bot reads nothing must not fail on a host this server cannot resolve (CRD sample requests use
  // `https://example/r4`), and a warm call does no DNS lookup.
  const fhirServerGuard = request.fhirServer ? onceGuard(services, caller.projectId, request.fhirServer) : undefined;
  const ehrFetch = projectFetch(services, caller.projectId);
  const completion = await completePrefetch({
    fetch: ehrFetch,
    templates: service.cdsService.prefetch ?? [],
    request,
    deadlineMs: PREFETCH_DEADLINE_MS,
    ...(fhirServerGuard ? { beforeFetch: fhirServerGuard } : {}),
  });
  if (completion.failures.length) {
    throw invalidIssues(
      'cds.prefetch-unavailable',
      locatedIssues(
        completion.failures.map((f) => ({ path: `prefetch.${f.key}`, message: f.reason })),
        'incomplete',
      ),
    );
  }

  const patientId = patientOf(request);
  const ehr: BotFhirClient =
    request.fhirServer && request.fhirAuthorization
      ? ehrClient({
          fhirServer: request.fhirServer,
          accessToken: request.fhirAuthorization.access_token,
          scope: request.fhirAuthorization.scope,
          fetch: ehrFetch,
          ...(fhirServerGuard ? { beforeFetch: fhirServerGuard } : {}),
          ...(patientId ? { patientId } : {}),
        })
      : noEhrAccess;
  let payer: BotFhirClient | undefined;
  const budget = { open: true };
  const host: HostCall = whileOpen(budget, (client, method, args) =>
    dispatchClientCall(
      client === 'payer' ? (payer ??= readOnlyClient(services.bots.systemRepo(caller.projectId))) : ehr,
      method,
      args,
    ),
  );

  const { fhirAuthorization: _token, auditHookInstance: _audit, ...visible } = request;
  const { result, value: checked } = await runAudited(
    {
      services,
      projectId: caller.projectId,
      bot: service.bot,
      code: service.code,
      input: { ...visible, prefetch: completion.prefetch },
      host,
      clients: ['medplum', 'payer'],
      clientId: caller.clientId,
      ...(input.requestIds ? { requestIds: input.requestIds } : {}),
      onSettled: () => (budget.open = false),
      subtype: 'cds-hooks',
      details: {
        hook: service.cdsService.hook,
        hookInstance: request.auditHookInstance,
        serviceId: service.bot.id,
        prefetchFetched: completion.fetched.join(',') || undefined,
      },
      started,
    },
    (run) => {
      if (!run.ok) return { ...judgeRun(run), value: undefined };
      const answer = validateCdsResponse(run.result, {
        hook: service.cdsService.hook,
        crd: service.cdsService.crd === true,
      });
      return answer.valid && answer.response
        ? { outcome: 'success' as const, value: answer }
        : {
            outcome: 'error' as const,
            description: `invalid response: ${answer.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`.slice(
              0,
              2000,
            ),
            value: answer,
          };
    },
  );
  if (!result.ok) throw runFailureError(result);
  if (!checked?.valid || !checked.response) {
    throw invalidIssues(
      'cds.invalid-response',
      locatedIssues(checked?.errors ?? [], 'invariant', 'The service returned an invalid CDS Hooks response: '),
    );
  }
  return checked.response;
}
