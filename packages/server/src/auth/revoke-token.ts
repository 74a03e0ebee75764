/**
 * Token revocation (RFC 7009): a client revokes its own access tokens. The token stops working at once on every
 * instance (`revocation.ts`). A token the server does not recognise as live (unknown, malformed, expired, already
 * revoked) answers success, as RFC 7009 §2.2 asks; a live token issued to another client is `unauthorized_client`.
 */
import { HookbotError } from '../infra/errors.js';
import { verifyAccessToken } from './access-token.js';
import { authenticateClient, formParam, oauthError, type ClientAuthRequest } from './client-authentication.js';
import type { IntrospectionDeps } from './introspect-token.js';
import { markRevoked } from './revocation.js';

export async function revokeToken(req: ClientAuthRequest, deps: IntrospectionDeps): Promise<void> {
  const client = await authenticateClient(req, deps);
  const token = formParam(req.form, 'token');
  if (!token) throw oauthError('invalid_request', 'token is required');
  let caller;
  try {
    caller = await verifyAccessToken(deps.key, deps.issuer, token, deps.shared);
  } catch (err) {
    if (err instanceof HookbotError && err.status === 401) return;
    throw err;
  }
  if (caller.clientId !== client.id) {
    throw oauthError('unauthorized_client', 'A client may revoke only the tokens issued to it');
  }
  await markRevoked(deps.shared, caller.jti, caller.expires);
}
