/**
 * Private keys for signing JWTs: RFC 7523 client assertions for `login --private-key`, and CDS Hooks client JWTs
 * for `hooks invoke --key` (CDS Hooks 2.0 "Trusting CDS Clients": ES384 or RS384, `kid` in the header).
 */
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { CliError, readText } from './errors.js';

export interface SigningKey {
  key: KeyObject;
  alg: 'ES384' | 'RS384' | 'ES256';
  kid?: string;
}

export async function loadSigningKey(file: string): Promise<SigningKey> {
  const text = await readText(file, `key file ${file}`);
  let key: KeyObject;
  let kid: string | undefined;
  try {
    if (text.trimStart().startsWith('{')) {
      const jwk = JSON.parse(text) as { kid?: string; d?: string };
      if (!jwk.d) throw new Error('the JWK has no private part ("d")');
      kid = jwk.kid;
      key = createPrivateKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
    } else {
      key = createPrivateKey(text);
    }
  } catch (error) {
    throw new CliError(
      'usage',
      `${file} is not a private key (JWK or PEM): ${(error as Error).message}`,
      {},
      { cause: error },
    );
  }
  return { key, alg: algorithmFor(key, file), ...(kid ? { kid } : {}) };
}

function algorithmFor(key: KeyObject, file: string): SigningKey['alg'] {
  if (key.asymmetricKeyType === 'rsa') return 'RS384';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'prime256v1') return 'ES256';
  }
  throw new CliError('usage', `${file}: use an RSA or EC P-384 key (CDS Hooks allows ES384 and RS384)`);
}

export interface JwtClaims {
  iss: string;
  sub?: string;
  aud: string;
  /** Lifetime in seconds; CDS Hooks and RFC 7523 servers refuse more than five minutes. */
  ttl?: number;
  extra?: Record<string, unknown>;
}

export async function signJwt(signing: SigningKey, claims: JwtClaims, options: { kid?: string; jku?: string } = {}) {
  const kid = options.kid ?? signing.kid;
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...claims.extra })
    .setProtectedHeader({
      alg: signing.alg,
      typ: 'JWT',
      ...(kid ? { kid } : {}),
      ...(options.jku ? { jku: options.jku } : {}),
    })
    .setIssuer(claims.iss)
    .setAudience(claims.aud)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.ttl ?? 300))
    .setJti(randomUUID());
  if (claims.sub) jwt.setSubject(claims.sub);
  return jwt.sign(signing.key);
}
