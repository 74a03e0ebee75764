/**
 * The server's token-signing keys: ES256, stored in `signing_keys` so tokens survive restarts and every instance
 * signs with the same key. The newest key signs; a key replaced by a newer one still verifies, and stays published at
 * `/.well-known/jwks.json`, until everything it signed has expired (`overlapSeconds`), so rotating never cuts off a
 * token or session in use. A rotation on one instance reaches the others over pub/sub, and each instance also
 * re-reads the table every minute: a missed message delays the switch, never breaks verification, as an instance
 * accepts every key the table holds within the overlap.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type JWSHeaderParameters } from 'jose';
import { JWSSignatureVerificationFailed } from 'jose/errors';
import type { Database } from '../infra/database.js';
import type { SharedState } from '../infra/shared-state.js';

export const TOKEN_ALG = 'ES256';

const CHANNEL = 'signing-keys';
const RELOAD_MS = 60_000;

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
  created_at: Date | string;
}

async function fromRow(row: KeyRow): Promise<SigningKey> {
  return {
    kid: row.kid,
    privateKey: (await importJWK(row.private_jwk, TOKEN_ALG)) as CryptoKey,
    publicKey: (await importJWK(row.public_jwk, TOKEN_ALG)) as CryptoKey,
    publicJwk: { ...row.public_jwk, kid: row.kid, alg: TOKEN_ALG, use: 'sig' },
  };
}

async function insertKey(db: Database): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALG, { extractable: true });
  await db.query(
    'INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
    [randomUUID(), TOKEN_ALG, JSON.stringify(await exportJWK(privateKey)), JSON.stringify(await exportJWK(publicKey))],
  );
}

/**
 * The keys in use: the newest, and those a newer key replaced less than `overlapSeconds` ago (a key is replaced when
 * the next one is created), newest first.
 */
async function keysInUse(db: Database, overlapSeconds: number): Promise<KeyRow[]> {
  const { rows } = await db.query<KeyRow>(
    `SELECT kid, private_jwk, public_jwk, created_at FROM (
       SELECT kid, private_jwk, public_jwk, created_at,
              LAG(created_at) OVER (ORDER BY created_at DESC, kid DESC) AS replaced_at
         FROM signing_keys WHERE alg = $1
     ) k
     WHERE replaced_at IS NULL OR replaced_at > now() - make_interval(secs => $2)
     ORDER BY created_at DESC, kid DESC`,
    [TOKEN_ALG, overlapSeconds],
  );
  return rows;
}

/** What signs and verifies Hookbot's own tokens: the key that signs, and the keys a token may name. */
export interface TokenKeys {
  readonly current: SigningKey;
  /** For jose's `jwtVerify`: the key in use that the token's header names. */
  verificationKey(header: JWSHeaderParameters): CryptoKey;
}

/** One key that signs and alone verifies (tests, tools). */
export function singleKey(key: SigningKey): TokenKeys {
  return {
    current: key,
    verificationKey: (header) => {
      if (header.kid !== key.kid) throw new JWSSignatureVerificationFailed('The token names no signing key in use');
      return key.publicKey;
    },
  };
}

export class SigningKeys implements TokenKeys {
  private keys: SigningKey[] = [];
  private byKid = new Map<string, SigningKey>();
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly db: Database,
    private readonly overlapSeconds: number,
  ) {}

  /** Loads the keys in use, creating the first when there is none. Safe when two instances start together. */
  static async load(db: Database, options: { overlapSeconds: number; shared?: SharedState }): Promise<SigningKeys> {
    const keys = new SigningKeys(db, options.overlapSeconds);
    await keys.reload();
    if (keys.keys.length === 0) {
      await insertKey(db);
      await keys.reload();
    }
    if (options.shared) {
      const { shared } = options;
      await shared.subscribe(CHANNEL, () => void keys.reload().catch(() => undefined));
      shared.onReconnect(() => void keys.reload().catch(() => undefined));
    }
    keys.timer = setInterval(() => void keys.reload().catch(() => undefined), RELOAD_MS);
    keys.timer.unref();
    return keys;
  }

  /** The key that signs. */
  get current(): SigningKey {
    const key = this.keys[0];
    if (!key) throw new Error('No signing key is loaded');
    return key;
  }

  readonly verificationKey = (header: JWSHeaderParameters): CryptoKey => {
    const key = header.kid === undefined ? undefined : this.byKid.get(header.kid);
    if (!key) throw new JWSSignatureVerificationFailed('The token names no signing key in use');
    return key.publicKey;
  };

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** Creates a new key, which signs from now on, on every instance (`shared` carries the news at once). */
  async rotate(shared?: SharedState): Promise<{ kid: string; previous: string[] }> {
    const previous = this.keys.map((k) => k.kid);
    await insertKey(this.db);
    await this.reload();
    // Unheard (Redis down), the others still switch at their next periodic reload.
    await shared?.publish(CHANNEL, this.current.kid).catch(() => undefined);
    return { kid: this.current.kid, previous };
  }

  async reload(): Promise<void> {
    const rows = await keysInUse(this.db, this.overlapSeconds);
    const known = new Map(this.keys.map((k) => [k.kid, k]));
    const keys = await Promise.all(rows.map((row) => known.get(row.kid) ?? fromRow(row)));
    this.keys = keys;
    this.byKid = new Map(keys.map((k) => [k.kid, k]));
  }

  close(): void {
    clearInterval(this.timer);
  }
}
