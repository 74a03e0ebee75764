/**
 * Token revocation (RFC 7009): a client revokes its own access tokens, and a member app its refresh tokens (with
 * their whole family: `member-grants.ts`). An access token stops working at once on every instance
 * (`revocation.ts`). A token the server does not recognise as live (unknown, malformed, expired, already
 * revoked) answers success, as RFC 7009 §2.2 asks; a live token issued to another client is `unauthorized_client`.
 */
import { formParam, oauthError, type ClientAuthRequest } from './client-authentication.js';
import { revokeRefreshToken } from './member-grants.js';
import { presentedToken, type PresentedTokenDeps } from './presented-token.js';
import { markRevoked } from './revocation.js';

export async function revokeToken(req: ClientAuthRequest, deps: PresentedTokenDeps): Promise<void> {
  const { client, caller } = await presentedToken(req, deps);
  if (!caller) return revokeRefreshToken(deps.db, deps.shared, client.id, formParam(req.form, 'token') as string);
  if (caller.clientId !== client.id) {
    throw oauthError('unauthorized_client', 'A client may revoke only the tokens issued to it');
  }
  await markRevoked(deps.shared, caller.jti, caller.expires);
}
