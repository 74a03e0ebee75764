/**
 * The clients registered for a JWT issuer (CDS Hooks client JWTs), cached for the hot path. Registering a client
 * drops its issuer on every server instance (pub/sub), so an EHR can call as soon as it is registered; the short
 * expiry only bounds staleness after changes made straight in the database.
 */
import type { Database } from '../infra/database.js';
import type { SharedState } from '../infra/shared-state.js';
import { findClientsByIssuer, type ClientRecord } from './projects.js';

export const ISSUER_CHANGED = 'client-issuer-changed';
const TTL_MS = 30_000;
const MAX_ENTRIES = 1000;

export class IssuerCache {
  private readonly entries = new Map<string, { clients: Promise<ClientRecord[]>; expires: number }>();

  constructor(
    private readonly db: Database,
    private readonly shared: SharedState,
  ) {}

  async start(): Promise<void> {
    await this.shared.subscribe(ISSUER_CHANGED, (issuer) => this.entries.delete(issuer));
  }

  /** Clients of a project that can verify a JWT from `issuer` (inline keys or a JWKS URL). */
  clientsFor(issuer: string): Promise<ClientRecord[]> {
    const hit = this.entries.get(issuer);
    if (hit && hit.expires > Date.now()) return hit.clients;
    const clients = findClientsByIssuer(this.db, issuer).then((all) =>
      all.filter((c) => c.projectId && (c.jwks || c.jwksUri)),
    );
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const entry = { clients, expires: Date.now() + TTL_MS };
    this.entries.set(issuer, entry);
    clients.catch(() => {
      if (this.entries.get(issuer) === entry) this.entries.delete(issuer);
    });
    return clients;
  }

  /**
   * Drops the issuer here and tells the other instances. A failed publish (Redis down) is left to the expiry: the
   * registration itself has succeeded.
   */
  async changed(issuer: string): Promise<void> {
    this.entries.delete(issuer);
    await this.shared.publish(ISSUER_CHANGED, issuer).catch(() => undefined);
  }
}
