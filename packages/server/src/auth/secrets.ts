/** Client secrets: random, shown once, stored as a salted scrypt hash, compared in constant time. */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

/** The key derivation a secret is hashed with (scrypt; tests count its calls). */
export type Kdf = (secret: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export const scryptKdf = promisify(scrypt) as Kdf;

/**
 * The hash of a secret nobody holds. A missing client, or one without a secret, is checked against it, so the
 * answer takes the same scrypt work whether the client id exists or not.
 */
const DUMMY_HASH = 'scrypt$yZ0hZxy2WUlxrJ8FrpXB_A$OPjw5R_NoTf6f6fqfMunza3NCgc6yInAOfCV7Bju4Mc';

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export async function hashSecret(secret: string, kdf: Kdf = scryptKdf): Promise<string> {
  const salt = randomBytes(16);
  const hash = await kdf(secret, salt, 32);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

function parseHash(stored: string | null | undefined): { salt: Buffer; hash: Buffer } | undefined {
  const [scheme, salt, hash] = (stored ?? '').split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return undefined;
  return { salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') };
}

/** Does `secret` match `stored`? Costs one scrypt whatever `stored` is (absent or malformed: false). */
export async function verifySecret(
  secret: string,
  stored: string | null | undefined,
  kdf: Kdf = scryptKdf,
): Promise<boolean> {
  const parsed = parseHash(stored);
  const target = parsed ?? (parseHash(DUMMY_HASH) as { salt: Buffer; hash: Buffer });
  const actual = await kdf(secret, target.salt, target.hash.length);
  return parsed !== undefined && actual.length === target.hash.length && timingSafeEqual(actual, target.hash);
}
