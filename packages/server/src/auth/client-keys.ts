/**
 * Public keys of clients that authenticate with signed JWTs (SMART private_key_jwt and CDS Hooks client JWTs):
 * an inline JWKS, or a JWKS URL fetched through the SSRF guard and cached by jose (which refetches on an
 * unknown `kid`, so key rotation works without a restart).
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  type FetchImplementation,
  type JWTVerifyGetKey,
} from 'jose';
import { outboundFetch } from '../infra/outbound-fetch.js';
import type { OutboundPolicy } from '../infra/outbound-url.js';
import { checkOutboundUrl } from '../infra/outbound-url.js';
import type { ClientRecord } from './clients.js';

type KeyResolver = JWTVerifyGetKey;

export class ClientKeyCache {
  private readonly remote = new Map<string, KeyResolver>();
  /** Inline key sets by client, with the JSON they were built from (a changed JWKS rebuilds the resolver). */
  private readonly local = new Map<string, { json: string; resolver: KeyResolver }>();

  /** The verification-key resolver for a client, or undefined when it has no keys registered. */
  async resolverFor(client: ClientRecord, policy: OutboundPolicy, jku?: string): Promise<KeyResolver | undefined> {
    if (client.jwks) {
      const json = JSON.stringify(client.jwks);
      let entry = this.local.get(client.id);
      if (entry?.json !== json) {
        entry = { json, resolver: createLocalJWKSet(client.jwks) };
        this.local.set(client.id, entry);
      }
      return entry.resolver;
    }
    const uri = jku ?? client.jwksUri;
    if (!uri) return undefined;
    const url = await checkOutboundUrl(uri, policy, 'jwksUri');
    let resolver = this.remote.get(url.href);
    if (!resolver) {
      resolver = createRemoteJWKSet(url, {
        timeoutDuration: 3000,
        cooldownDuration: 10_000,
        cacheMaxAge: 600_000,
        [customFetch]: outboundFetch(policy, { maxResponseBytes: 256 * 1024 }) as FetchImplementation,
      });
      this.remote.set(url.href, resolver);
    }
    return resolver;
  }
}
