import { jwtVerify, SignJWT } from 'jose';
import { afterEach, expect, it } from 'vitest';
import { MemorySharedState } from '../infra/shared-state.js';
import { withStores } from '../testing/stores.js';
import { SigningKeys, TOKEN_ALG } from './signing-keys.js';

const HOUR = 3600;
const opened: SigningKeys[] = [];

afterEach(() => {
  for (const keys of opened.splice(0)) keys.close();
});

async function sign(keys: SigningKeys): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: TOKEN_ALG, kid: keys.current.kid })
    .setExpirationTime('5m')
    .sign(keys.current.privateKey);
}

withStores('signing keys', (getDb) => {
  it('rotate on every instance: the new key signs, the replaced one verifies until the overlap ends', async () => {
    const db = getDb();
    await db.query('DELETE FROM signing_keys');
    const shared = new MemorySharedState();
    const a = await SigningKeys.load(db, { overlapSeconds: HOUR, shared });
    const b = await SigningKeys.load(db, { overlapSeconds: HOUR, shared });
    opened.push(a, b);
    expect(b.current.kid).toBe(a.current.kid);
    const before = await sign(a);
    const old = a.current.kid;

    const rotated = await a.rotate(shared);
    expect(rotated.previous).toEqual([old]);
    expect(rotated.kid).not.toBe(old);
    // The other instance hears of it over pub/sub (in process here: at once).
    await expect.poll(() => b.current.kid).toBe(rotated.kid);
    expect(b.jwks().keys.map((k) => k.kid)).toEqual([rotated.kid, old]);
    await expect(jwtVerify(before, b.verificationKey)).resolves.toBeDefined();
    await expect(jwtVerify(await sign(b), a.verificationKey)).resolves.toBeDefined();

    // Once the overlap has passed since the replacement, the old key neither verifies nor is published.
    await db.query(`UPDATE signing_keys SET created_at = now() - interval '2 hours' WHERE kid = $1`, [rotated.kid]);
    await db.query(`UPDATE signing_keys SET created_at = now() - interval '3 hours' WHERE kid = $1`, [old]);
    await b.reload();
    expect(b.jwks().keys.map((k) => k.kid)).toEqual([rotated.kid]);
    await expect(jwtVerify(before, b.verificationKey)).rejects.toThrow(/no signing key in use/);
  });

  it('refuse a token that names no key, or a key the server never had', async () => {
    const db = getDb();
    const keys = await SigningKeys.load(db, { overlapSeconds: HOUR });
    opened.push(keys);
    const unnamed = await new SignJWT({}).setProtectedHeader({ alg: TOKEN_ALG }).sign(keys.current.privateKey);
    await expect(jwtVerify(unnamed, keys.verificationKey)).rejects.toThrow(/no signing key in use/);
    const foreign = await new SignJWT({})
      .setProtectedHeader({ alg: TOKEN_ALG, kid: 'not-ours' })
      .sign(keys.current.privateKey);
    await expect(jwtVerify(foreign, keys.verificationKey)).rejects.toThrow(/no signing key in use/);
  });
});
