/**
 * Ids of resources the server creates: UUIDv7 (RFC 9562), whose first 48 bits are the creation time in
 * milliseconds. Every B-tree keyed by resource id (the current and history primary keys, the search index's
 * resource index) then receives new keys at its right-hand edge instead of on a random page, which costs the
 * database less per insert (AuditEvents above all). The other 74 bits are random, as in a v4 UUID.
 */
import { randomUUID } from 'node:crypto';

export function newResourceId(now = Date.now()): string {
  const time = now.toString(16).padStart(12, '0');
  // randomUUID's version nibble (index 14) becomes 7; its variant bits (index 19) are already RFC 9562's.
  const random = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
