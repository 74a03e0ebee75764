/**
 * Deliveries of PAS decisions to the partner that submitted them: its active Subscriptions (rest-hook, the
 * notification Bundle, each `channel.header` sent as given) and its OAuth2-protected callback (the PAS response
 * Bundle with a client-credentials token). Jobs are durable (see the queues); every URL goes through the SSRF guard
 * with the project's allowed base URLs; each attempt is audited and a Subscription's failures are on its status.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AuditEvent, Bundle, Subscription } from '@medplum/fhirtypes';
import type { ProjectSettingsCache } from '../admin/settings-cache.js';
import type { SecretsKey } from '../admin/secrets-key.js';
import { projectSystemAccess } from '../auth/access.js';
import { AUDIT_TYPE_SYSTEM } from '../bots/audit.js';
import { createRepository } from '../fhir/repository.js';
import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import { outboundFetch } from '../infra/outbound-fetch.js';
import type { OutboundPolicy } from '../infra/outbound-url.js';
import { partnerUrlPolicy } from './url-policy.js';
import type { DeliveryJob, DeliveryQueue, DeliveryResult } from './jobs.js';
import { describeFailure } from './failure.js';
import { notificationBundle } from './notification.js';
import { ClientCredentialsTokens } from './oauth.js';
import { activeSubscriptionsOf, getCallback, nextEventNumber, noteAttempt } from './store.js';

export interface DeliveriesOptions {
  db: Database;
  queue: DeliveryQueue;
  settings: ProjectSettingsCache;
  secretsKey: SecretsKey;
  log: Logger;
  /** The FHIR base URL (`BASE_URL/fhir/R4`). */
  fhirBase: string;
  development: boolean;
  sendTimeoutMs?: number;
}

/** Who a decision is for: the submitting client, and the organisation identifiers the request named. */
export interface DecisionAudience {
  clientId: string;
  orgIdentifiers: string[];
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers that decide where and how the request is framed: a subscriber must not point it at another virtual host. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te']);

/** `channel.header` entries ("Name: value") as headers; malformed ones are refused when the Subscription is made. */
export function parseHeaders(lines: string[]): [string, string][] {
  return lines.map((line) => {
    const at = line.indexOf(':');
    const name = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    if (at <= 0 || !HEADER_NAME.test(name) || /[\r\n]/.test(value)) throw new Error(`Malformed header "${line}"`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new Error(`Header "${name}" may not be set`);
    return [name, value];
  });
}

export class Deliveries {
  private readonly tokens: ClientCredentialsTokens;

  constructor(private readonly options: DeliveriesOptions) {
    this.tokens = new ClientCredentialsTokens(Date.now, options.sendTimeoutMs ?? 10_000);
  }

  get queueKind(): DeliveryQueue['kind'] {
    return this.options.queue.kind;
  }

  /** Deliveries pending across instances (metrics). */
  depth(): Promise<number> {
    return this.options.queue.depth();
  }

  start(): void {
    this.options.queue.start(
      (job) => this.send(job),
      (job, result, final) => this.afterAttempt(job, result, final),
    );
  }

  close(): Promise<void> {
    return this.options.queue.close();
  }

  /** The SSRF policy for the project's partners' URLs (loopback only in development, when the project lists it). */
  async partnerPolicy(projectId: string): Promise<OutboundPolicy> {
    const { allowedBaseUrls } = await this.options.settings.get(projectId);
    return partnerUrlPolicy(this.options.development, allowedBaseUrls);
  }

  /** Queues the decision for the submitter's Subscriptions and callback, in the decision's transaction. */
  async decisionChanged(db: Database, projectId: string, audience: DecisionAudience, response: Bundle): Promise<void> {
    const jobs: Omit<DeliveryJob, 'attempts'>[] = [];
    for (const sub of await activeSubscriptionsOf(db, projectId, audience.clientId)) {
      // Filtered by org-identifier when the request named its organisation; a request that named none reaches
      // the submitting client's Subscriptions.
      if (audience.orgIdentifiers.length && !sub.orgIdentifiers.some((o) => audience.orgIdentifiers.includes(o)))
        continue;
      const number = await nextEventNumber(db, projectId, sub.id);
      jobs.push({
        id: randomUUID(),
        projectId,
        target: { kind: 'subscription', id: sub.id },
        body: notificationBundle(this.options.fhirBase, sub.id, number, response),
      });
    }
    if (await getCallback(db, projectId, audience.clientId)) {
      jobs.push({ id: randomUUID(), projectId, target: { kind: 'callback', id: audience.clientId }, body: response });
    }
    await this.options.queue.add(jobs, db);
  }

  private async post(
    fetchFn: typeof fetch,
    url: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<Response> {
    return fetchFn(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.sendTimeoutMs ?? 10_000),
    });
  }

  /** One attempt; a failure is reported as a fixed phrase (see failure.ts), its detail logged here only. */
  async send(job: DeliveryJob): Promise<DeliveryResult> {
    try {
      return await this.attempt(job);
    } catch (err) {
      this.options.log.warn(
        { projectId: job.projectId, target: job.target, err: err instanceof Error ? err.message : String(err) },
        'delivery attempt failed',
      );
      return { ok: false, error: describeFailure(err) };
    }
  }

  private async attempt(job: DeliveryJob): Promise<DeliveryResult> {
    const { db } = this.options;
    const fetchFn = outboundFetch(await this.partnerPolicy(job.projectId));
    if (job.target.kind === 'subscription') {
      // The Subscription as it is now: deleted or switched off through the FHIR API, it gets nothing more; its
      // endpoint and headers are the current ones (checked by the SSRF guard again when connecting).
      const repo = createRepository(db, projectSystemAccess(job.projectId), { baseUrl: this.options.fhirBase });
      const sub = await repo.read<Subscription>('Subscription', job.target.id).catch(() => undefined);
      const endpoint = sub?.channel?.endpoint;
      if (!sub || sub.status === 'off' || !endpoint) return { ok: true };
      const res = await this.post(
        fetchFn,
        endpoint,
        job.body,
        Object.fromEntries(parseHeaders(sub.channel.header ?? [])),
      );
      return res.ok ? { ok: true } : { ok: false, error: `the endpoint answered HTTP ${res.status}` };
    }
    const callback = await getCallback(db, job.projectId, job.target.id);
    if (!callback) return { ok: true };
    const clientSecret = await this.options.secretsKey.open(job.projectId, callback.oauthClientSecret);
    const registration = [callback.url, callback.tokenUrl, callback.oauthClientId, clientSecret, callback.scope];
    const request = {
      // Keyed by the whole registration (the secret hashed): a token obtained for a callback never serves the one
      // that re-registration put in its place (new URL, token endpoint or credentials).
      key: `${job.projectId}/${job.target.id}/${createHash('sha256').update(JSON.stringify(registration)).digest('base64url')}`,
      tokenUrl: callback.tokenUrl,
      clientId: callback.oauthClientId,
      clientSecret,
      ...(callback.scope ? { scope: callback.scope } : {}),
    };
    let res = await this.post(fetchFn, callback.url, job.body, {
      Authorization: `Bearer ${await this.tokens.get(request, fetchFn)}`,
    });
    if (res.status === 401) {
      // The token was revoked or expired early: one fresh token, once.
      this.tokens.drop(request.key);
      res = await this.post(fetchFn, callback.url, job.body, {
        Authorization: `Bearer ${await this.tokens.get(request, fetchFn)}`,
      });
    }
    return res.ok ? { ok: true } : { ok: false, error: `the callback answered HTTP ${res.status}` };
  }

  private async afterAttempt(job: DeliveryJob, result: DeliveryResult, final: boolean): Promise<void> {
    const { db } = this.options;
    const repo = createRepository(db, projectSystemAccess(job.projectId), { baseUrl: this.options.fhirBase });
    if (job.target.kind === 'subscription') {
      const exhausted = final && !result.ok;
      await noteAttempt(db, job.projectId, job.target.id, {
        ok: result.ok,
        exhausted,
        ...(result.ok ? {} : { error: result.error }),
      });
      if (exhausted) {
        const current = await repo.read<Subscription>('Subscription', job.target.id).catch(() => undefined);
        if (current) {
          await repo.update<Subscription>({
            ...current,
            status: 'error',
            error: `Delivery failed after ${job.attempts} attempts: ${result.ok ? '' : result.error}`.slice(0, 1000),
          });
        }
      }
    }
    await repo.createMany<AuditEvent>([deliveryAudit(job, result, final)], { serverRecorded: true });
  }
}

export function deliveryAudit(job: DeliveryJob, result: DeliveryResult, final: boolean): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    type: { system: AUDIT_TYPE_SYSTEM, code: 'delivery', display: 'delivery' },
    subtype: [{ system: AUDIT_TYPE_SYSTEM, code: `delivery-${job.target.kind}` }],
    action: 'E',
    recorded: new Date().toISOString(),
    outcome: result.ok ? '0' : '8',
    ...(result.ok ? {} : { outcomeDesc: result.error.slice(0, 1000) }),
    agent: [{ requestor: false, who: { display: 'hookbot' } }],
    source: { observer: { display: 'hookbot' } },
    entity: [
      {
        what: {
          reference:
            job.target.kind === 'subscription' ? `Subscription/${job.target.id}` : `ClientApplication/${job.target.id}`,
        },
        detail: [
          { type: 'job', valueString: job.id },
          { type: 'attempt', valueString: String(job.attempts) },
          ...(final && !result.ok ? [{ type: 'gave-up', valueString: 'true' }] : []),
        ],
      },
    ],
  };
}
