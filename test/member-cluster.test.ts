/**
 * Member access on two instances of one deployment (PostgreSQL and Redis shared): a member signed in on one is
 * signed in on the other, and a code redeemed on both at once is used once: one instance answers the tokens, the
 * other `invalid_grant`, and that second use revokes what the first issued, on both instances.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './support/http.js';
import {
  approve,
  authorizeParams,
  Browser,
  createMember,
  exchangeCode,
  hiddenFields,
  newFacts,
  pkce,
  registerMemberApp,
  signUpFields,
} from './support/member-launch.js';
import { startServerPair, type ServerPair } from './support/pair.js';

let pair: ServerPair;
beforeAll(async () => {
  pair = await startServerPair({ store: 'postgres', redis: true }, { redis: true });
}, 120_000);
afterAll(async () => {
  await pair?.b.stop();
  await pair?.a.stop();
});

describe('two instances', () => {
  it('share the member’s session, use a code once, and revoke its family everywhere', async () => {
    const { a, b } = pair;
    const app = await registerMemberApp(a, { public: true });
    const facts = newFacts();
    await createMember(a, facts);
    const { verifier, challenge } = pkce();
    const params = new URLSearchParams(authorizeParams(a, { clientId: app.clientId, challenge }));
    const browser = new Browser();
    const signUp = await browser.get(`${a.url}/oauth2/authorize/sign-up?${params}`);
    const created = await browser.post(`${a.url}/oauth2/authorize/sign-up`, {
      ...hiddenFields(signUp.html),
      ...signUpFields(facts, `${facts.lastName}@example.com`),
    });
    expect(created.status).toBe(303);
    // Signed up on a, approved on b.
    const code = await approve(b, browser, created.location as string);

    const results = await Promise.all([a, b].map((t) => exchangeCode(t, { code, verifier, clientId: app.clientId })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    const token = results.find((r) => r.status === 200)?.body.access_token as string;
    for (const t of [a, b]) expect((await request(`${t.url}/oauth2/userinfo`, { token })).status).toBe(401);
  });
});
