/**
 * `POST /fhir/R4/Subscription` for PAS (R4 backport, PASSubscription): topic `PASSubscriptionTopic`, rest-hook,
 * `full-resource` payload, an `org-identifier` filter (`orgIdentifier` accepted too); the endpoint must pass the
 * SSRF guard. Created `requested`, then a handshake is POSTed to the endpoint with its `channel.header`s: the
 * Subscription becomes `active`, or `error` with the reason. `GET Subscription/{id}/$status` answers the backport
 * SubscriptionStatus with the failures so far.
 */
import type { Parameters, Subscription } from '@medplum/fhirtypes';
import type { Caller } from '../auth/access-token.js';
import type { Repository } from '../fhir/repository.js';
import { HookbotError, invalidIssues, locatedIssues, notFound, type LocatedProblem } from '../infra/errors.js';
import { outboundFetch } from '../infra/outbound-fetch.js';
import { PAS_TOPIC } from '../pas/constants.js';
import { requirePas } from '../pas/access.js';
import type { Services } from '../services.js';
import { describeFailure } from './failure.js';
import { handshakeBundle, statusParameters } from './notification.js';
import { parseHeaders } from './service.js';
import { checkPartnerUrl } from './url-policy.js';
import { countSubscriptionsOf, getSubscription, saveSubscription, type SubscriptionRow } from './store.js';

const FILTER_URL = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria';
const CONTENT_URL = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content';
const HANDSHAKE_TIMEOUT_MS = 5000;

type PasSubscription = Subscription & {
  _criteria?: { extension?: { url?: string; valueString?: string }[] };
  channel: Subscription['channel'] & { _payload?: { extension?: { url?: string; valueCode?: string }[] } };
};

/** `org-identifier=A,B` or `orgIdentifier=A` → [A, B]. */
export function orgIdentifiersOf(filters: string[]): string[] {
  return filters.flatMap((f) => {
    const match = /^\s*(org-identifier|orgIdentifier)\s*=\s*(.+)$/.exec(f);
    return match?.[2]
      ? match[2]
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean)
      : [];
  });
}

export function checkPasSubscription(input: unknown): {
  subscription: PasSubscription;
  orgIdentifiers: string[];
  headers: string[];
} {
  const problems: LocatedProblem[] = [];
  const sub = (typeof input === 'object' && input !== null ? input : {}) as PasSubscription;
  if (sub.resourceType !== 'Subscription')
    problems.push({ path: 'Subscription', message: 'The body must be a Subscription' });
  if (sub.criteria !== PAS_TOPIC)
    problems.push({ path: 'Subscription.criteria', message: `criteria must be the PAS topic ${PAS_TOPIC}` });
  if (sub.channel?.type !== 'rest-hook')
    problems.push({ path: 'Subscription.channel.type', message: 'Only the rest-hook channel is supported' });
  if (typeof sub.channel?.endpoint !== 'string' || !URL.canParse(sub.channel.endpoint))
    problems.push({ path: 'Subscription.channel.endpoint', message: 'channel.endpoint must be an absolute URL' });
  const content = sub.channel?._payload?.extension?.find((e) => e.url === CONTENT_URL)?.valueCode;
  if (content !== undefined && content !== 'full-resource')
    problems.push({
      path: 'Subscription.channel.payload',
      message: 'PAS notifications carry the full resource: payload content must be full-resource',
    });
  const filters = (sub._criteria?.extension ?? []).filter((e) => e.url === FILTER_URL).map((e) => e.valueString ?? '');
  const orgIdentifiers = orgIdentifiersOf(filters);
  if (orgIdentifiers.length === 0)
    problems.push({
      path: 'Subscription.criteria',
      message: 'A PAS Subscription needs a filter org-identifier=<sending system identifier> (spec-58)',
    });
  const headers = sub.channel?.header ?? [];
  try {
    parseHeaders(headers);
  } catch (err) {
    problems.push({
      path: 'Subscription.channel.header',
      message: err instanceof Error ? err.message : 'Malformed header',
    });
  }
  if (problems.length) throw invalidIssues('subscription.invalid', locatedIssues(problems));
  return { subscription: sub, orgIdentifiers, headers };
}

export async function createPasSubscription(
  services: Services,
  caller: Caller,
  repo: Repository,
  body: unknown,
): Promise<Subscription> {
  requirePas('subscribe', caller, repo.access);
  const { subscription, orgIdentifiers, headers } = checkPasSubscription(body);
  const projectId = repo.access.projectId;
  // Each Subscription is a row and a delivery per decision: a client's count is capped. 422, not 429: the quota
  // does not clear by waiting, only when the payer deletes Subscriptions (concurrent creations may overshoot it by
  // the requests in flight, which the rate limit bounds).
  const cap = services.config.delivery.maxSubscriptionsPerClient;
  if ((await countSubscriptionsOf(services.db, projectId, caller.clientId)) >= cap)
    throw new HookbotError('subscription.limit-reached', `A client may hold at most ${cap} PAS Subscriptions`);
  const policy = await services.deliveries.partnerPolicy(projectId);
  await checkPartnerUrl(subscription.channel.endpoint as string, policy, 'Subscription.channel.endpoint');
  const { id: _id, meta: _meta, ...rest } = subscription;
  const created = await repo.create<Subscription>({ ...rest, status: 'requested' });
  const id = created.id as string;
  const save = (status: SubscriptionRow['status']) =>
    saveSubscription(services.db, {
      projectId,
      id,
      clientId: caller.clientId,
      orgIdentifiers,
      endpoint: subscription.channel.endpoint as string,
      headers,
      status,
    });
  await save('requested');
  let error: string | undefined;
  try {
    const res = await outboundFetch(policy)(subscription.channel.endpoint as string, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json', ...Object.fromEntries(parseHeaders(headers)) },
      body: JSON.stringify(handshakeBundle(repo.fhirBase, id)),
      signal: AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS),
    });
    if (!res.ok) error = `The handshake to the endpoint answered HTTP ${res.status}`;
  } catch (err) {
    // The partner reads this: a fixed phrase; the detail (addresses, hosts) is logged only.
    services.log.warn(
      { projectId, subscription: id, err: err instanceof Error ? err.message : String(err) },
      'Subscription handshake failed',
    );
    error = `The handshake to the endpoint failed: ${describeFailure(err)}`;
  }
  const status = error ? 'error' : 'active';
  await save(status);
  return repo.update<Subscription>({ ...created, status, ...(error ? { error } : {}) });
}

export async function subscriptionStatus(
  services: Services,
  caller: Caller,
  repo: Repository,
  id: string,
): Promise<Parameters> {
  requirePas('subscribe', caller, repo.access);
  await repo.read<Subscription>('Subscription', id);
  const row = await getSubscription(services.db, repo.access.projectId, id);
  // A partner sees its own Subscriptions only, not those of the project's other partners.
  if (!row || (caller.role === 'partner' && row.clientId !== caller.clientId))
    throw notFound('subscription.not-found', `Subscription/${id} is not a PAS Subscription`);
  const status = statusParameters(
    repo.fhirBase,
    id,
    'query-status',
    row.status,
    row.eventCount,
    undefined,
    row.lastError ?? undefined,
  );
  status.parameter?.push({ name: 'delivery-failures', valueString: String(row.failures) });
  return status;
}
