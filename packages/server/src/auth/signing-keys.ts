/**
 * The server's token-signing key: ES256, created on first start and stored in `signing_keys` so tokens survive
 * restarts and every instance signs with the same key. Published at `/.well-known/jwks.json`.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Database } from '../infra/database.js';

export const TOKEN_ALG = 'ES256';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

interface KeyRow {
  kid: string;
  private_jwk: JWK;
  public_jwk: JWK;
}

async function fromRow(row: KeyRow): Promise<SigningKey> {
  return {
    kid: row.kid,
    privateKey: (await importJWK(row.private_jwk, TOKEN_ALG)) as CryptoKey,
    publicKey: (await importJWK(row.public_jwk, TOKEN_ALG)) as CryptoKey,
    publicJwk: { ...row.public_jwk, kid: row.kid, alg: TOKEN_ALG, use: 'sig' },
  };
}

/** Loads the newest key, creating one when there is none. Safe when two instances start together. */
export async function loadSigningKey(db: Database): Promise<SigningKey> {
  const newest = async () =>
    (
      await db.query<KeyRow>(
        'SELECT kid, private_jwk, public_jwk FROM signing_keys WHERE alg = $1 ORDER BY created_at DESC, kid LIMIT 1',
        [TOKEN_ALG],
      )
    ).rows[0];
  const existing = await newest();
  if (existing) return fromRow(existing);
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALG, { extractable: true });
  const kid = randomUUID();
  await db.query(
    'INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
    [kid, TOKEN_ALG, JSON.stringify(await exportJWK(privateKey)), JSON.stringify(await exportJWK(publicKey))],
  );
  return fromRow((await newest()) as KeyRow);
}

export function jwks(key: SigningKey): { keys: JWK[] } {
  return { keys: [key.publicJwk] };
}
