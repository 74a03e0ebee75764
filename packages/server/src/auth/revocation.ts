/**
 * Revoked access tokens in the shared state (Redis when configured, so every instance sees a revocation at once;
 * in-process otherwise): one token by its `jti` (`POST /oauth2/revoke`), or every token a client was issued under
 * credentials it no longer has (a rotated secret, replaced keys) by the client's credential generation, which each
 * token carries (`cg`). A marker lives until the tokens it revokes would have expired anyway, clock skew included,
 * so the state never holds more than the revocations of one token lifetime. Both are checked in one read.
 */
import type { SharedState } from '../infra/shared-state.js';

/** The clock skew access-token verification tolerates: a marker must outlive the token by as much. */
export const ACCESS_TOKEN_SKEW_SECONDS = 60;

const tokenMarker = (jti: string) => `revoked-token:${jti}`;
const generationMarker = (clientId: string, generation: number) => `revoked-credentials:${clientId}:${generation}`;

export function isRevoked(
  shared: SharedState,
  token: { jti: string; clientId: string; generation: number },
): Promise<boolean> {
  return shared.exists(tokenMarker(token.jti), generationMarker(token.clientId, token.generation));
}

/** Marks the token `jti`, expiring at `exp` (seconds since the epoch), revoked everywhere. */
export async function markRevoked(shared: SharedState, jti: string, exp: number): Promise<void> {
  const ttl = exp - Math.floor(Date.now() / 1000) + ACCESS_TOKEN_SKEW_SECONDS;
  if (ttl > 0) await shared.setOnce(tokenMarker(jti), ttl);
}

/** Revokes every token issued to `clientId` under credential `generation`, the longest of which lives `tokenTtl`. */
export async function markGenerationRevoked(
  shared: SharedState,
  clientId: string,
  generation: number,
  tokenTtlSeconds: number,
): Promise<void> {
  await shared.setOnce(generationMarker(clientId, generation), tokenTtlSeconds + ACCESS_TOKEN_SKEW_SECONDS);
}
