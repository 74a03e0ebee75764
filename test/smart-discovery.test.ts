/** SMART discovery where clients look for it: at the server root and under the FHIR base, without a token. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.stop());

describe('/.well-known/smart-configuration', () => {
  it('answers the same document at the root and under the FHIR base, without authentication', async () => {
    const root = await request(`${t.url}/.well-known/smart-configuration`);
    const fhir = await request(`${t.url}/fhir/R4/.well-known/smart-configuration`);
    expect(root.status).toBe(200);
    expect(fhir.status).toBe(200);
    expect(fhir.body).toEqual(root.body);
    const base = t.server.services.config.baseUrl;
    expect(root.body).toMatchObject({
      issuer: base,
      token_endpoint: `${base}/oauth2/token`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      introspection_endpoint: `${base}/oauth2/introspect`,
      revocation_endpoint: `${base}/oauth2/revoke`,
    });
  });
});
