import { generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Database } from '../infra/database.js';
import { HookbotError } from '../infra/errors.js';
import { MemorySharedState } from '../infra/shared-state.js';
import { ClientKeyCache } from './client-keys.js';
import { issueToken, type TokenDeps } from './issue-token.js';
import { hashSecret, scryptKdf, type Kdf } from './secrets.js';
import { singleKey, type SigningKey } from './signing-keys.js';

const SECRET = 'right-secret';

/** A database holding one secret client, `known`. */
async function fakeDb(): Promise<Database> {
  const row = {
    id: 'known',
    project_id: 'p1',
    name: 'known client',
    secret_hash: await hashSecret(SECRET),
    scope: 'system/*.cruds',
    role: 'admin',
    is_admin: false,
    issuer: null,
    jwks: null,
    jwks_uri: null,
  };
  const db: Database = {
    query: async <R>(_sql: string, params?: unknown[]) => ({ rows: (params?.[0] === row.id ? [row] : []) as R[] }),
    transaction: (fn) => fn(db),
  } as Database;
  return db;
}

async function setup() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const hashed: string[] = [];
  const slept: number[] = [];
  const kdf: Kdf = (secret, salt, keylen) => {
    hashed.push(secret);
    return scryptKdf(secret, salt, keylen);
  };
  const deps: TokenDeps = {
    db: await fakeDb(),
    key: singleKey({ kid: 'k1', privateKey, publicKey } as SigningKey),
    issuer: 'http://hookbot.test',
    tokenUrl: 'http://hookbot.test/oauth2/token',
    ttlSeconds: 60,
    fhirBase: 'http://hookbot.test/fhir/R4',
    clientKeys: new ClientKeyCache(),
    shared: new MemorySharedState(),
    outbound: { development: false },
    kdf,
    sleep: async (ms) => {
      slept.push(ms);
    },
  };
  const attempt = (clientId: string, secret: string, address = '192.0.2.1') =>
    issueToken(
      { form: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret }, address },
      deps,
    ).then(
      () => 'issued',
      (err: unknown) => (err instanceof HookbotError ? err.oauthError : 'other'),
    );
  return { deps, hashed, slept, attempt };
}

describe('issueToken client authentication', () => {
  it('does the same secret hashing for an unknown client id as for a known one', async () => {
    const { hashed, attempt } = await setup();
    expect(await attempt('known', 'wrong')).toBe('invalid_client');
    expect(hashed).toHaveLength(1);
    expect(await attempt('nobody', 'wrong')).toBe('invalid_client');
    expect(hashed).toHaveLength(2);
    expect(await attempt('known', SECRET)).toBe('issued');
    expect(hashed).toHaveLength(3);
  });

  it('slows down attempts for a client id after repeated failures, from any address', async () => {
    const { slept, attempt } = await setup();
    for (let i = 0; i < 5; i++) expect(await attempt('known', `guess-${i}`, `198.51.100.${i}`)).toBe('invalid_client');
    expect(slept).toEqual([]);
    expect(await attempt('known', 'guess-5', '203.0.113.9')).toBe('invalid_client');
    expect(await attempt('known', 'guess-6', '203.0.113.10')).toBe('invalid_client');
    expect(slept).toEqual([250, 500]);
    // Another client id from a fresh address is not slowed.
    expect(await attempt('other', 'x', '203.0.113.11')).toBe('invalid_client');
    expect(slept).toHaveLength(2);
  });

  it('never slows down the client presenting its right secret, however many failures others caused', async () => {
    const { slept, attempt } = await setup();
    for (let i = 0; i < 30; i++) await attempt('known', `guess-${i}`, '198.51.100.7');
    slept.length = 0;
    expect(await attempt('known', SECRET, '198.51.100.7')).toBe('issued');
    expect(await attempt('known', SECRET, '203.0.113.10')).toBe('issued');
    expect(slept).toEqual([]);
  });

  it('slows down an address that fails for many client ids', async () => {
    const { slept, attempt } = await setup();
    for (let i = 0; i < 20; i++) await attempt(`id-${i}`, 'x', '192.0.2.7');
    expect(slept).toEqual([]);
    await attempt('id-20', 'x', '192.0.2.7');
    expect(slept).toEqual([250]);
    await attempt('id-21', 'x', '192.0.2.8');
    expect(slept).toEqual([250]);
  });
});
