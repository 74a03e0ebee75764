/**
 * Input the store cannot hold or the server cannot walk is refused at the edge with a 400 (431 for oversized
 * headers) naming the problem, as an OperationOutcome (RFC 6749 JSON at the token endpoint), never a 500: NUL
 * characters (PostgreSQL text and jsonb refuse them), lone surrogates (jsonb refuses them), JSON nested deeper than
 * the bound, and body parse errors worded alike on the FHIR and CDS endpoints.
 */
import { request as httpRequest } from 'node:http';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, form, getToken, request, type JsonResponse } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

function expectOutcome(res: JsonResponse, status: number, diagnostics: RegExp): void {
  expect(res.status).toBe(status);
  expect(res.body.resourceType).toBe('OperationOutcome');
  const issue = (res.body.issue as { diagnostics: string }[])[0];
  expect(issue?.diagnostics).toMatch(diagnostics);
}

/** A JSON text nested `depth` levels deep (built as text: JSON.stringify would overflow the stack). */
function nestedExtension(depth: number): string {
  const open = '{"url":"http://example.org/x","extension":['.repeat(depth);
  const close = ']}'.repeat(depth);
  return `{"resourceType":"Patient","extension":[${open}{"url":"http://example.org/leaf","valueString":"x"}${close}]}`;
}

function nestedArray(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

describe.each(['pglite', 'postgres'] as const)('bad input on %s', (store) => {
  let t: TestServer;
  let token: string;
  const fhir = () => `${t.url}/fhir/R4`;
  const postJson = (url: string, body: string) =>
    request(url, { method: 'POST', token, headers: { 'Content-Type': 'application/fhir+json' }, body });

  beforeAll(async () => {
    t = await startTestServer({ store });
    token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  });
  afterAll(async () => t?.stop());

  it('answers a NUL byte in client_id at the token endpoint with invalid_request', async () => {
    const res = await request<{ error: string; error_description: string }>(`${t.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=a%00b&client_secret=x',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toMatch(/client_id.*NUL/);
  });

  it('refuses a token request body over 64 KB before reading it, as invalid_request', async () => {
    const res = await request<{ error: string; error_description: string }>(`${t.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&client_id=${t.demo.clientId}&client_secret=${'x'.repeat(70 * 1024)}`,
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toMatch(/65536 bytes/);
  });

  it('refuses a NUL in a client id sent outside the form (HTTP Basic, an assertion, a CDS JWT) as an unknown client', async () => {
    const token = (headers: Record<string, string>, body: Record<string, string>) =>
      request<{ error: string }>(`${t.url}/oauth2/token`, form({ grant_type: 'client_credentials', ...body }, headers));
    const basic = await token({ Authorization: basicAuth('a\u0000b', 'secret') }, {});
    expect(basic.status).toBe(401);
    expect(basic.body.error).toBe('invalid_client');
    const { privateKey } = await generateKeyPair('ES384');
    const jwt = (audience: string) =>
      new SignJWT({ jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'ES384', kid: 'k1' })
        .setIssuer('a\u0000b')
        .setSubject('a\u0000b')
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('2m')
        .sign(privateKey);
    const baseUrl = t.server.services.config.baseUrl;
    const assertion = await token(
      {},
      {
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await jwt(`${baseUrl}/oauth2/token`),
      },
    );
    expect(assertion.status).toBe(401);
    expect(assertion.body.error).toBe('invalid_client');
    const cds = await request(`${t.url}/cds-services`, {
      headers: { Authorization: `Bearer ${await jwt(`${baseUrl}/cds-services`)}` },
    });
    expect(cds.status).toBe(401);
    expect(cds.body.resourceType).toBe('OperationOutcome');
  });

  it('answers a method no route serves with 501 (405 where the FHIR API names the methods), not a 500', async () => {
    for (const path of ['/cds-services', '/admin/projects', '/nowhere']) {
      expectOutcome(await request(`${t.url}${path}`, { method: 'LINK', token }), 501, /not implemented/i);
    }
    expectOutcome(await request(`${fhir()}/Patient`, { method: 'LINK', token }), 405, /LINK/);
  });

  it('answers a NUL byte in a search value with 400', async () => {
    const res = await request(`${fhir()}/Patient?name=a%00b`, { token });
    expectOutcome(res, 400, /name.*NUL/);
  });

  it('answers a NUL byte in a token system with 400', async () => {
    const res = await request(`${fhir()}/Patient?identifier=http://x%00y|123`, { token });
    expectOutcome(res, 400, /identifier.*NUL/);
  });

  it('answers a NUL byte in a form-encoded search value with 400', async () => {
    const res = await request(`${fhir()}/Patient/_search`, {
      method: 'POST',
      token,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'family=a%00b',
    });
    expectOutcome(res, 400, /family.*NUL/);
  });

  it('answers a NUL byte in an id with 400', async () => {
    for (const path of ['Patient/a%00b', 'Patient/a%00b/_history', 'Patient/a%00b/_history/1']) {
      expectOutcome(await request(`${fhir()}/${path}`, { token }), 400, /URL path contains a NUL/);
    }
    expectOutcome(
      await request(`${fhir()}/Patient/a%00b`, { method: 'DELETE', token }),
      400,
      /URL path contains a NUL/,
    );
  });

  it('answers a NUL character in a resource string with 400', async () => {
    const res = await postJson(`${fhir()}/Patient`, '{"resourceType":"Patient","name":[{"family":"a\\u0000b"}]}');
    expectOutcome(res, 400, /NUL/);
    expect(JSON.stringify(res.body)).toContain('name[0].family');
  });

  it('answers a lone surrogate in a resource string with 400', async () => {
    const res = await postJson(`${fhir()}/Patient`, '{"resourceType":"Patient","name":[{"family":"a\\ud800"}]}');
    expectOutcome(res, 400, /surrogate/);
    expect(JSON.stringify(res.body)).toContain('name[0].family');
  });

  it('answers an extension nested 100,000 deep with 400', async () => {
    const res = await postJson(`${fhir()}/Patient`, nestedExtension(100_000));
    expectOutcome(res, 400, /nested deeper than \d+/);
  });

  it('answers $execute input nested 5,000 deep with 400', async () => {
    const bot = await request<{ id: string }>(`${fhir()}/Bot`, {
      method: 'POST',
      token,
      json: { resourceType: 'Bot', name: 'echo' },
    });
    const id = bot.body.id;
    const deployed = await request(`${fhir()}/Bot/${id}/$deploy`, {
      method: 'POST',
      token,
      json: { code: 'exports.handler = async (medplum, event) => event.input;', filename: 'bot.js' },
    });
    expect(deployed.status).toBe(200);
    const res = await postJson(`${fhir()}/Bot/${id}/$execute`, nestedArray(5_000));
    expectOutcome(res, 400, /nested deeper than \d+/);
    // A NUL in a query given to GET $execute is refused the same way.
    expectOutcome(await request(`${fhir()}/Bot/${id}/$execute?a=%00`, { token }), 400, /NUL/);
  });

  it('answers malformed JSON alike on the FHIR and CDS endpoints', async () => {
    const fhirRes = await postJson(`${fhir()}/Patient`, '{"resourceType":');
    const cdsRes = await request(`${t.url}/cds-services/some-service`, {
      method: 'POST',
      token,
      headers: { 'Content-Type': 'application/json' },
      body: '{"hook":',
    });
    expectOutcome(fhirRes, 400, /^Malformed JSON/);
    expectOutcome(cdsRes, 400, /^Malformed JSON/);
    const wording = (r: JsonResponse) => (r.body.issue as { diagnostics: string }[])[0]?.diagnostics;
    expect(wording(cdsRes)).toBe(wording(fhirRes));
  });

  it('reads no CDS Hooks body before the caller is authenticated', async () => {
    // Parsing and walking a body costs the event loop seconds per 8 MB: an anonymous caller must not get that far.
    for (const body of ['{"hook":', nestedArray(5_000), '{"hook":"x","context":{"a":"\u0000"}}']) {
      for (const path of ['/cds-services/some-service', '/cds-services/some-service/feedback']) {
        const res = await request(`${t.url}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
        });
        expect(res.status, `${path} ${body.slice(0, 20)}`).toBe(401);
      }
    }
    const wrongType = await request(`${t.url}/cds-services/some-service`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/xml' },
      body: '<x/>',
    });
    expect(wrongType.status).toBe(401);
  });

  it('answers a body of the wrong content type with a 415 OperationOutcome', async () => {
    const res = await request(`${fhir()}/Patient`, {
      method: 'POST',
      token,
      headers: { 'Content-Type': 'application/xml' },
      body: '<Patient/>',
    });
    expectOutcome(res, 415, /application\/xml/);
  });

  it('answers oversized headers and URLs with a 431 OperationOutcome', async () => {
    const raw = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const req = httpRequest(`${t.url}${path}`, { headers }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const res of [
      await raw('/fhir/R4/metadata', { 'X-Big': 'x'.repeat(20_000) }),
      await raw(`/fhir/R4/Patient?name=${'x'.repeat(20_000)}`, {}),
    ]) {
      expect(res.status).toBe(431);
      expect(res.type).toContain('application/fhir+json');
      const body = JSON.parse(res.body) as { resourceType: string; issue: { diagnostics: string }[] };
      expect(body.resourceType).toBe('OperationOutcome');
      expect(body.issue[0]?.diagnostics).toMatch(/header/i);
    }
  });
});
