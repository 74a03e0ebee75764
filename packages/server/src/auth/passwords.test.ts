import { describe, expect, it } from 'vitest';
import { GENERATED_PASSWORD_COST, hashPassword, passwordKdf, verifyPassword } from './passwords.js';
import { hashSecret } from './secrets.js';

describe('password hashes', () => {
  it('store their scrypt cost beside salt and hash, and verify only the right password', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored).toMatch(/^scrypt\$ln=15,r=8,p=3\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    // Salted: the same password twice is two hashes.
    expect(await hashPassword('correct horse battery')).not.toBe(stored);
  });

  it('verify with the cost a hash was made with, and hashes made before costs were stored', async () => {
    const legacy = await hashSecret('an older password', passwordKdf);
    expect(legacy.split('$')).toHaveLength(3);
    expect(await verifyPassword('an older password', legacy)).toBe(true);
    // A cheaper cost, as a future change of the default would leave behind: read from the hash itself.
    const [, , salt = '', hash = ''] = (await hashPassword('cost test password')).split('$');
    expect(await verifyPassword('cost test password', `scrypt$ln=14,r=8,p=3$${salt}$${hash}`)).toBe(false);
    const generated = await hashPassword('a generated password', GENERATED_PASSWORD_COST);
    expect(generated).toMatch(/^scrypt\$ln=14,r=8,p=1\$/);
    expect(await verifyPassword('a generated password', generated)).toBe(true);
  });

  it('refuse absent, malformed and absurd hashes without throwing', async () => {
    for (const stored of [undefined, null, '', 'plain', 'scrypt$ln=40,r=8,p=3$c2FsdA$aGFzaA', 'bcrypt$x$y'])
      expect(await verifyPassword('anything at all', stored)).toBe(false);
  });
});
