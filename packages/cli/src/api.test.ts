import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { HookbotApi, type Fetch } from './api.js';
import { HooksClient } from './commands/hooks-client.js';
import { createOutput } from './output.js';
import { CliError } from './errors.js';

const profile = { baseUrl: 'https://hookbot.example.org', clientId: 'c1', clientSecret: 's1' };

/** A fetch that answers the token endpoint, then `respond` for everything else, recording the calls. */
function fakeFetch(respond: (url: string, init: RequestInit) => Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const impl: Fetch = async (input, init = {}) => {
    const url = String(input);
    calls.push({ url, init });
    if (url.endsWith('/oauth2/token')) return Response.json({ access_token: 'tok', expires_in: 3600 });
    return respond(url, init);
  };
  return { impl, calls };
}

async function failure(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe('HookbotApi', () => {
  it('gets a client-credentials token once and sends it as a bearer token', async () => {
    const { impl, calls } = fakeFetch(() => Response.json({ ok: true }));
    const api = new HookbotApi(profile, impl);
    await api.request('GET', '/auth/me');
    await api.request('GET', '/fhir/R4/Bot', { query: { name: 'x', _count: 5, skip: undefined } });
    expect(calls.map((c) => c.url)).toEqual([
      'https://hookbot.example.org/oauth2/token',
      'https://hookbot.example.org/auth/me',
      'https://hookbot.example.org/fhir/R4/Bot?name=x&_count=5',
    ]);
    expect(String(calls[0]?.init.body)).toBe('grant_type=client_credentials&client_id=c1&client_secret=s1');
    expect(new Headers(calls[1]?.init.headers).get('authorization')).toBe('Bearer tok');
  });

  it('turns an OperationOutcome into the diagnostics and the request id (header first)', async () => {
    const outcome = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'invalid', diagnostics: 'Line 3: Unexpected token', expression: ['code'] }],
      extension: [{ url: 'https://hookbot.dev/fhir/StructureDefinition/request-id', valueString: 'from-body' }],
    };
    const { impl } = fakeFetch(() => Response.json(outcome, { status: 400, headers: { 'X-Request-Id': 'req-1' } }));
    const error = await failure(new HookbotApi(profile, impl).request('POST', '/fhir/R4/Bot/1/$deploy', { json: {} }));
    expect(error.code).toBe('failed');
    expect(error.exitCode).toBe(1);
    expect(error.message).toBe('POST /fhir/R4/Bot/1/$deploy failed: HTTP 400');
    expect(error.details).toMatchObject({
      requestId: 'req-1',
      status: 400,
      lines: ['Line 3: Unexpected token (at code)'],
    });
  });

  it('falls back to the request id in the OperationOutcome extension', async () => {
    const { impl } = fakeFetch(() =>
      Response.json(
        { resourceType: 'OperationOutcome', issue: [], extension: [{ url: 'x/request-id', valueString: 'from-body' }] },
        { status: 404 },
      ),
    );
    expect((await failure(new HookbotApi(profile, impl).request('GET', '/x'))).details.requestId).toBe('from-body');
  });

  it.each([
    [401, 'auth', 3],
    [403, 'auth', 3],
    [404, 'failed', 1],
    [500, 'failed', 1],
  ])('HTTP %i is a %s error (exit %i)', async (status, code, exit) => {
    const { impl } = fakeFetch(() => new Response('nope', { status }));
    const error = await failure(new HookbotApi(profile, impl).request('GET', '/x'));
    expect(error.code).toBe(code);
    expect(error.exitCode).toBe(exit);
    expect(error.details.lines).toEqual(['nope']);
  });

  it('reports RFC 6749 token errors with a hint', async () => {
    const impl: Fetch = async () =>
      Response.json({ error: 'invalid_client', error_description: 'Unknown client' }, { status: 401 });
    const error = await failure(new HookbotApi(profile, impl).token());
    expect(error.code).toBe('auth');
    expect(error.details.lines?.[0]).toBe('invalid_client: Unknown client');
    expect(error.details.lines?.[1]).toMatch(/hookbot login/);
  });

  it('reports an unreachable server as a network error (exit 4)', async () => {
    const impl: Fetch = async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    };
    const error = await failure(new HookbotApi(profile, impl).request('GET', '/x', { auth: false }));
    expect(error.code).toBe('network');
    expect(error.exitCode).toBe(4);
    expect(error.message).toBe('Cannot reach https://hookbot.example.org (ECONNREFUSED)');
  });

  it('keeps a text answer as text', async () => {
    const { impl } = fakeFetch(() => new Response('hello', { headers: { 'content-type': 'text/plain' } }));
    expect((await new HookbotApi(profile, impl).request('POST', '/x')).body).toBe('hello');
  });

  describe('JWT audiences name the server as it names itself (BASE_URL), not the address called', () => {
    // The server's BASE_URL is http://localhost:8103; the user typed 127.0.0.1.
    const smart = { issuer: 'http://localhost:8103', token_endpoint: 'http://localhost:8103/oauth2/token' };
    const server = () => {
      const calls: { url: string; init: RequestInit }[] = [];
      const impl: Fetch = async (input, init = {}) => {
        const url = String(input);
        calls.push({ url, init });
        if (url.endsWith('/.well-known/smart-configuration')) return Response.json(smart);
        if (url.endsWith('/oauth2/token')) return Response.json({ access_token: 'tok' });
        return Response.json({ services: [] });
      };
      return { impl, calls };
    };
    const keyFile = async (alg: 'RS384' | 'ES384') => {
      const { privateKey } = await generateKeyPair(alg, { extractable: true });
      const file = path.join(await mkdtemp(path.join(tmpdir(), 'hookbot-key-')), 'key.json');
      await writeFile(file, JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'k1' }));
      return file;
    };

    it('login --private-key: the client assertion is for the token endpoint of the SMART configuration', async () => {
      const { impl, calls } = server();
      const api = new HookbotApi(
        { baseUrl: 'http://127.0.0.1:8103', clientId: 'ci', privateKeyFile: await keyFile('RS384') },
        impl,
      );
      await api.token();
      const tokenCall = calls.find((c) => c.url === 'http://127.0.0.1:8103/oauth2/token');
      const assertion = new URLSearchParams(String(tokenCall?.init.body)).get('client_assertion');
      expect(decodeJwt(assertion ?? '').aud).toBe('http://localhost:8103/oauth2/token');
    });

    it('hooks --key: the CDS client JWT names the issuer plus the path called', async () => {
      const { impl, calls } = server();
      const out = createOutput({
        stdout: { write: () => true },
        stderr: { write: () => true },
        json: true,
        color: false,
        interactive: false,
      });
      const client = await HooksClient.open({
        cwd: '.',
        env: {},
        out,
        fetch: impl,
        key: await keyFile('ES384'),
        issuer: 'https://ehr.example.org',
        baseUrl: 'http://127.0.0.1:8103',
      });
      await client.discover();
      const call = calls.find((c) => c.url === 'http://127.0.0.1:8103/cds-services');
      const jwt = new Headers(call?.init.headers).get('authorization')?.replace(/^Bearer /, '') ?? '';
      expect(decodeJwt(jwt).aud).toBe('http://localhost:8103/cds-services');
    });
  });
});
