/**
 * Request budgets per minute, shared through Redis when configured: one per client on every authenticated route,
 * and one per address on the token endpoint (the address Koa derives from `X-Forwarded-For` only behind the
 * proxies `HOOKBOT_TRUST_PROXY_HOPS` names). Beyond a budget: 429 with `Retry-After`.
 */
import { HookbotError } from './errors.js';
import type { Budget, SharedState } from './shared-state.js';

export interface RateLimitSettings {
  /** Requests per minute per client (0: no limit). */
  perClient: number;
  /** Token requests per minute per address (0: no limit). */
  tokenPerAddress: number;
}

export class RateLimits {
  private readonly client?: Budget;
  private readonly tokenAddress?: Budget;

  constructor(
    shared: SharedState,
    private readonly settings: RateLimitSettings,
  ) {
    if (settings.perClient > 0) this.client = shared.budget('client', settings.perClient, 60);
    if (settings.tokenPerAddress > 0) this.tokenAddress = shared.budget('token-address', settings.tokenPerAddress, 60);
  }

  /** Counts a request of an authenticated client; 429 beyond its budget. */
  async perClient(clientId: string): Promise<void> {
    await spend(this.client, clientId, this.settings.perClient, 'requests');
  }

  /** Counts a token request from `address`; 429 beyond its budget. */
  async tokenRequest(address: string): Promise<void> {
    await spend(this.tokenAddress, address, this.settings.tokenPerAddress, 'token requests');
  }
}

async function spend(budget: Budget | undefined, key: string, perMinute: number, what: string): Promise<void> {
  const retryAfter = await budget?.spend(key);
  if (retryAfter === undefined) return;
  throw new HookbotError('request.rate-limited', `Rate limit of ${perMinute} ${what} per minute exceeded`, {
    headers: { 'Retry-After': String(retryAfter) },
  });
}
