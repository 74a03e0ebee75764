import { describe, expect, it } from 'vitest';
import { HookbotError } from '../infra/errors.js';
import { describeFailure, DeliveryFailure } from './failure.js';
import { backoffMs } from './jobs.js';
import { ClientCredentialsTokens } from './oauth.js';
import { parseHeaders } from './service.js';
import { checkPasSubscription, orgIdentifiersOf } from './subscriptions.js';

describe('deliveries', () => {
  it('back off exponentially up to the cap', () => {
    const policy = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 5000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(policy, n))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('read both spellings of the PAS org filter', () => {
    expect(orgIdentifiersOf(['org-identifier=A,B', 'orgIdentifier = C', 'other=D'])).toEqual(['A', 'B', 'C']);
  });

  it('refuse malformed channel headers', () => {
    expect(parseHeaders(['Authorization: Bearer x: y'])).toEqual([['Authorization', 'Bearer x: y']]);
    expect(() => parseHeaders(['no colon'])).toThrow();
    expect(() => parseHeaders(['Bad Name: x'])).toThrow();
    expect(() => parseHeaders(['Host: admin.internal'])).toThrow();
    expect(() => parseHeaders(['content-length: 0'])).toThrow();
    expect(() => checkPasSubscription({ resourceType: 'Subscription', channel: { type: 'websocket' } })).toThrow();
  });

  it('cache a client-credentials token until shortly before it expires, and fetch again once dropped', async () => {
    let now = 0;
    let issued = 0;
    const tokens = new ClientCredentialsTokens(() => now);
    const fetchFn = (async () =>
      new Response(JSON.stringify({ access_token: `t${++issued}`, expires_in: 60 }), { status: 200 })) as typeof fetch;
    const request = { key: 'k', tokenUrl: 'https://partner/token', clientId: 'c', clientSecret: 's' };
    expect(await tokens.get(request, fetchFn)).toBe('t1');
    now = 29_000;
    expect(await tokens.get(request, fetchFn)).toBe('t1');
    now = 31_000;
    expect(await tokens.get(request, fetchFn)).toBe('t2');
    tokens.drop('k');
    expect(await tokens.get(request, fetchFn)).toBe('t3');
  });

  it('describe a failure with a fixed phrase, never the addresses, hosts or bodies in its message', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.4.17:443'), { code: 'ECONNREFUSED' });
    expect(describeFailure(refused)).toBe('connection refused');
    const ssrf = Object.assign(new Error('Refused to connect to db.payer.internal'), { code: 'EHOOKBOTSSRF' });
    expect(describeFailure(ssrf)).toBe('address not allowed');
    expect(describeFailure(new HookbotError('outbound.blocked-url', 'https://x resolves to 10.0.0.1'))).toBe(
      'address not allowed',
    );
    expect(describeFailure(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }))).toBe(
      'timed out',
    );
    expect(describeFailure(Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe('TLS failure');
    expect(describeFailure(new Error('<html>stack at /srv/internal.js</html>'))).toBe('connection failed');
    expect(describeFailure('text')).toBe('connection failed');
    expect(describeFailure(new DeliveryFailure('the token endpoint answered HTTP 500'))).toBe(
      'the token endpoint answered HTTP 500',
    );
  });

  it('give up on a token endpoint that never answers instead of holding the delivery worker', async () => {
    const tokens = new ClientCredentialsTokens(Date.now, 20);
    // Answers only by failing once its request is aborted; without a signal it would hang for ever.
    const hanging = ((_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
      })) as typeof fetch;
    const request = { key: 'k', tokenUrl: 'https://partner/token', clientId: 'c', clientSecret: 's' };
    await expect(tokens.get(request, hanging)).rejects.toThrow('aborted');
  }, 3000);
});
