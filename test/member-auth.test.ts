/** Member access through a SMART standalone launch: registration, the authorization endpoint, the member's pages, the token endpoint's member grants and the discovery documents. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './support/http.js';
import { memberToken } from './support/member.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.stop());

describe('the whole flow', () => {
  it('gives a member app a token for the member', async () => {
    const { token, patient } = await memberToken(t);
    expect(patient).toBeTruthy();
    const info = await request(`${t.url}/oauth2/userinfo`, { token });
    expect(info.status).toBe(200);
  });
});
