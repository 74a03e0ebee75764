/**
 * Revoked access tokens, by `jti`, in the shared state (Redis when configured, so every instance sees a revocation
 * at once; in-process otherwise). A marker lives until the token would have expired anyway, clock skew included, so
 * the list never holds more than the tokens revoked within one token lifetime.
 */
import type { SharedState } from '../infra/shared-state.js';

/** The clock skew access-token verification tolerates: a marker must outlive the token by as much. */
export const ACCESS_TOKEN_SKEW_SECONDS = 60;

const markerOf = (jti: string) => `revoked-token:${jti}`;

export function isRevoked(shared: SharedState, jti: string): Promise<boolean> {
  return shared.exists(markerOf(jti));
}

/** Marks the token `jti`, expiring at `exp` (seconds since the epoch), revoked everywhere. */
export async function markRevoked(shared: SharedState, jti: string, exp: number): Promise<void> {
  const ttl = exp - Math.floor(Date.now() / 1000) + ACCESS_TOKEN_SKEW_SECONDS;
  if (ttl > 0) await shared.setOnce(markerOf(jti), ttl);
}
