/**
 * Passwords of people (members, console users): slow salted scrypt hashes that carry their own cost parameters
 * (`scrypt$ln=15,r=8,p=3$salt$hash`), so the cost can be raised later without locking out anyone hashed before;
 * compared in constant time; an unknown account costs the same check. Emails are compared normalised.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Kdf } from './secrets.js';

/**
 * OWASP's scrypt setting N=2^15, r=8, p=3 (32 MiB, a few tens of milliseconds per hash): much slower to guess than
 * client secrets (random, 256 bits), which keep Node's default.
 */
const COST = { ln: 15, r: 8, p: 3 } as const;
/**
 * For passwords the server generates (256 random bits, like client secrets): nothing to guess, so Node's default
 * cost, a sixth of the above (the demo users, created at every first start). Signing in to such an account is
 * faster than the check of an unknown email: that tells only that it exists, which its published name says anyway.
 */
export const GENERATED_PASSWORD_COST = { ln: 14, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

export interface Cost {
  ln: number;
  r: number;
  p: number;
}

function derive(password: string, salt: Buffer, keylen: number, cost: Cost): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** cost.ln, r: cost.r, p: cost.p, maxmem: 256 * cost.r * 2 ** cost.ln + 1e6 };
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** The password hash function at today's cost, as a `Kdf` (benchmarks). */
export const passwordKdf: Kdf = (secret, salt, keylen) => derive(secret, salt, keylen, COST);

export async function hashPassword(password: string, cost: Cost = COST): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, KEY_LENGTH, cost);
  return `scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

interface Parsed {
  cost: Cost;
  salt: Buffer;
  hash: Buffer;
}

/** Bounds on stored parameters: a corrupted row must not make one check take minutes or gigabytes. */
const sane = (c: Cost) => c.ln >= 10 && c.ln <= 20 && c.r >= 1 && c.r <= 32 && c.p >= 1 && c.p <= 16;

function parse(stored: string | null | undefined): Parsed | undefined {
  const parts = (stored ?? '').split('$');
  // Member accounts hashed before parameters were stored (`scrypt$salt$hash`) used today's cost.
  const [scheme, params, salt, hash] = parts.length === 3 ? [parts[0], '', parts[1], parts[2]] : parts;
  if (scheme !== 'scrypt' || !salt || !hash) return undefined;
  const cost: Cost = { ...COST };
  for (const pair of (params ?? '').split(',').filter(Boolean)) {
    const [name, value] = pair.split('=');
    if ((name === 'ln' || name === 'r' || name === 'p') && /^\d+$/.test(value ?? '')) cost[name] = Number(value);
    else return undefined;
  }
  if (!sane(cost)) return undefined;
  return { cost, salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') };
}

/** Does `password` match `stored`? One scrypt at the stored cost; absent or malformed: today's cost, false. */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const parsed = parse(stored);
  const target = parsed ?? { cost: COST, salt: randomBytes(16), hash: Buffer.alloc(KEY_LENGTH) };
  const actual = await derive(password, target.salt, target.hash.length, target.cost);
  return parsed !== undefined && actual.length === target.hash.length && timingSafeEqual(actual, target.hash);
}

export const normalEmail = (email: string) => email.trim().toLowerCase();
export const isEmail = (email: string) => email.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);
