/**
 * OAuth2 client credentials for partner callbacks (RFC 6749 §4.4): a token per callback, obtained from the
 * partner's token endpoint (through the SSRF guard), kept until shortly before it expires, and dropped when the
 * callback answers 401 so the next send gets a fresh one.
 */
import { DeliveryFailure } from './failure.js';

export interface TokenRequest {
  key: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
}

interface Cached {
  token: string;
  expires: number;
}

const EARLY_SECONDS = 30;
const DEFAULT_TTL_SECONDS = 300;

export class ClientCredentialsTokens {
  private readonly cache = new Map<string, Cached>();

  /** `timeoutMs` bounds each token request: a token endpoint that never answers must not hold a delivery worker. */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly timeoutMs = 10_000,
  ) {}

  async get(request: TokenRequest, fetchFn: typeof fetch): Promise<string> {
    const hit = this.cache.get(request.key);
    if (hit && hit.expires > this.now()) return hit.token;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (request.scope) form.set('scope', request.scope);
    const basic = Buffer.from(
      `${encodeURIComponent(request.clientId)}:${encodeURIComponent(request.clientSecret)}`,
    ).toString('base64');
    const res = await fetchFn(request.tokenUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
        Authorization: `Basic ${basic}`,
      },
      body: form.toString(),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
    if (!res.ok || typeof body.access_token !== 'string' || !body.access_token) {
      throw new DeliveryFailure(`the token endpoint answered HTTP ${res.status} without an access_token`);
    }
    const ttl = Number(body.expires_in);
    const seconds = Number.isFinite(ttl) && ttl > 0 ? ttl : DEFAULT_TTL_SECONDS;
    // Expired tokens go, so the keys of replaced registrations do not pile up.
    for (const [key, entry] of this.cache) if (entry.expires <= this.now()) this.cache.delete(key);
    this.cache.set(request.key, {
      token: body.access_token,
      expires: this.now() + Math.max(1, seconds - EARLY_SECONDS) * 1000,
    });
    return body.access_token;
  }

  drop(key: string): void {
    this.cache.delete(key);
  }
}
