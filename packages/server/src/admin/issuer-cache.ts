/**
 * The clients registered for a JWT issuer (CDS Hooks client JWTs), cached for the hot path. Registering a client
 * drops its issuer on every server instance (pub/sub), so an EHR can call as soon as it is registered; the short
 * expiry only bounds staleness after changes made straight in the database.
 */
import type { Database } from '../infra/database.js';
import { InvalidatedCache } from '../infra/invalidated-cache.js';
import type { SharedState } from '../infra/shared-state.js';
import { findClientsByIssuer, type ClientRecord } from '../auth/clients.js';
import { mayCallCds, registeredScope } from '../auth/roles.js';
import { parseScopes } from '../auth/scopes.js';

const ISSUER_CHANGED = 'client-issuer-changed';
const TTL_MS = 30_000;
const MAX_ENTRIES = 1000;

export class IssuerCache {
  private readonly cache: InvalidatedCache<ClientRecord[]>;

  constructor(
    private readonly db: Database,
    shared: SharedState,
  ) {
    this.cache = new InvalidatedCache(shared, ISSUER_CHANGED, { ttlMs: TTL_MS, maxEntries: MAX_ENTRIES });
  }

  start(): Promise<void> {
    return this.cache.start();
  }

  /**
   * Clients of a project that can verify a JWT from `issuer` (inline keys or a JWKS URL) and whose role and
   * registered scope allow calling CDS services: decided when loaded, not on every call.
   */
  clientsFor(issuer: string): Promise<ClientRecord[]> {
    return this.cache.get(issuer, async () =>
      (await findClientsByIssuer(this.db, issuer)).filter(
        (c) =>
          c.projectId && (c.jwks || c.jwksUri) && mayCallCds(c.role, parseScopes(registeredScope(c.role, c.scope))),
      ),
    );
  }

  /**
   * Drops the issuer here and tells the other instances. A failed publish (Redis down) is left to the expiry: the
   * registration itself has succeeded.
   */
  async changed(issuer: string): Promise<void> {
    await this.cache.changed(issuer).catch(() => undefined);
  }
}
