/**
 * What introspection (RFC 7662) and revocation (RFC 7009) share: the client authenticates (a public one names
 * itself: RFC 7009 §2.1), names a `token`, and a token this server does not accept now (unknown, malformed,
 * expired, revoked) is answered without an error.
 */
import { HookbotError } from '../infra/errors.js';
import { verifyAccessToken, type Caller } from './access-token.js';
import {
  formParam,
  oauthError,
  requestingClient,
  type ClientAuthDeps,
  type ClientAuthRequest,
} from './client-authentication.js';
import type { ClientRecord } from './clients.js';
import type { TokenKeys } from './signing-keys.js';

export interface PresentedTokenDeps extends ClientAuthDeps {
  key: TokenKeys;
}

export interface PresentedToken {
  client: ClientRecord;
  /** The token's caller; absent when the token is not one the server accepts now. */
  caller?: Caller;
}

export async function presentedToken(req: ClientAuthRequest, deps: PresentedTokenDeps): Promise<PresentedToken> {
  const client = await requestingClient(req, deps);
  const token = formParam(req.form, 'token');
  if (!token) throw oauthError('invalid_request', 'token is required');
  try {
    return { client, caller: await verifyAccessToken(deps.key, deps.issuer, token, deps.shared) };
  } catch (err) {
    if (err instanceof HookbotError && err.status === 401) return { client };
    throw err;
  }
}
