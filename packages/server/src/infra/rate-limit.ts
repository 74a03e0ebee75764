/**
 * Request budgets, shared through Redis when configured: one per client on every authenticated route, one per
 * address on the token endpoint (the address Koa derives from `X-Forwarded-For` only behind the proxies
 * `HOOKBOT_TRUST_PROXY_HOPS` names), and, where its project sets one, one per client on the token endpoint. A project
 * may set its own limits (`rateLimits` in its settings, bounded by `RATE_LIMIT_MAXIMA`); the server's apply otherwise.
 * Beyond a budget: 429 with `Retry-After`.
 */
import { HookbotError } from './errors.js';
import type { Budget, SharedState } from './shared-state.js';

export interface RateLimitSettings {
  /** Requests per minute per client (0: no limit). */
  perClient: number;
  /** Token requests per minute per address (0: no limit). */
  tokenPerAddress: number;
}

/** A project's own limits (project settings): requests per window, per client. */
export interface ProjectRateLimits {
  /** Requests per window per client of the project, on every authenticated route. */
  perClient?: number;
  /** Token requests per window per client of the project (counted once the client has authenticated). */
  tokenPerClient?: number;
  /** The window, in seconds (60 unless set). */
  windowSeconds?: number;
}

/** The largest value a project may set for each limit. */
export const RATE_LIMIT_MAXIMA: Required<ProjectRateLimits> = {
  perClient: 100_000,
  tokenPerClient: 10_000,
  windowSeconds: 3_600,
};

export type ProjectLimitsOf = (projectId: string) => Promise<ProjectRateLimits>;

export class RateLimits {
  private readonly tokenAddress?: Budget;

  constructor(
    private readonly shared: SharedState,
    private readonly settings: RateLimitSettings,
    private readonly projectLimits: ProjectLimitsOf = async () => ({}),
  ) {
    if (settings.tokenPerAddress > 0) this.tokenAddress = shared.budget('token-address', settings.tokenPerAddress, 60);
  }

  /** Counts a request of an authenticated client; 429 beyond its budget (its project's, else the server's). */
  async perClient(clientId: string, projectId?: string): Promise<void> {
    const own = projectId ? await this.projectLimits(projectId) : {};
    await this.spend('client', clientId, own.perClient ?? this.settings.perClient, own.windowSeconds, 'requests');
  }

  /** Counts a token request from `address`; 429 beyond its budget. */
  async tokenRequest(address: string): Promise<void> {
    await spend(this.tokenAddress, address, `${this.settings.tokenPerAddress} token requests per minute`);
  }

  /** Counts a token request of an authenticated client whose project limits them; 429 beyond. */
  async tokenPerClient(clientId: string, projectId: string | null): Promise<void> {
    if (!projectId) return;
    const own = await this.projectLimits(projectId);
    await this.spend('token-client', clientId, own.tokenPerClient ?? 0, own.windowSeconds, 'token requests');
  }

  private async spend(name: string, key: string, points: number, window = 60, what: string): Promise<void> {
    if (points <= 0) return;
    const minute = window === 60;
    // A window of its own is a counter of its own: a counter's expiry is set by the window it started in.
    const budget = this.shared.budget(minute ? name : `${name}-${window}s`, points, window);
    await spend(budget, key, `${points} ${what} per ${minute ? 'minute' : `${window} seconds`}`);
  }
}

async function spend(budget: Budget | undefined, key: string, limit: string): Promise<void> {
  const retryAfter = await budget?.spend(key);
  if (retryAfter === undefined) return;
  throw new HookbotError('request.rate-limited', `Rate limit of ${limit} exceeded`, {
    headers: { 'Retry-After': String(retryAfter) },
  });
}
