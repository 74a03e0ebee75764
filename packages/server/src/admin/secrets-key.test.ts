import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ConfigError } from '../infra/config.js';
import { loadSecretsKey } from './secrets-key.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hookbot-secrets-key-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('seals for one project: the value is not in the ciphertext and opens only for that project', async () => {
  const key = await loadSecretsKey({ dataDir: dir });
  const sealed = await key.seal('project-a', '[{"name":"API_KEY","value":"s3cr3t-value"}]');
  expect(sealed).not.toContain('s3cr3t');
  expect(await key.open('project-a', sealed)).toBe('[{"name":"API_KEY","value":"s3cr3t-value"}]');
  await expect(key.open('project-b', sealed)).rejects.toThrow('another project');
  const tampered = sealed.slice(0, -3) + (sealed.endsWith('AAA') ? 'BBB' : 'AAA');
  await expect(key.open('project-a', tampered)).rejects.toThrow();
});

it('creates the key file once with mode 0600 and reuses it', async () => {
  const first = await loadSecretsKey({ dataDir: dir });
  const file = path.join(dir, 'secrets.key');
  expect((await stat(file)).mode & 0o777).toBe(0o600);
  const sealed = await first.seal('p', 'x');
  const again = await loadSecretsKey({ dataDir: dir });
  expect(again.source).toBe('data folder');
  expect(await again.open('p', sealed)).toBe('x');
  expect((await readFile(file, 'utf8')).trim()).toHaveLength(43);
});

it('takes HOOKBOT_SECRETS_KEY when given, and refuses a key of the wrong size', async () => {
  const fromEnv = Buffer.alloc(32, 7).toString('base64url');
  const key = await loadSecretsKey({ fromEnv, dataDir: dir });
  expect(key.source).toBe('environment');
  const other = await loadSecretsKey({ dataDir: dir });
  await expect(other.open('p', await key.seal('p', 'x'))).rejects.toThrow();
  await expect(loadSecretsKey({ fromEnv: 'c2hvcnQ', dataDir: dir })).rejects.toBeInstanceOf(ConfigError);
});

it('opens with an accepted key during a rotation, and seals only with the current one', async () => {
  const oldKey = Buffer.alloc(32, 1).toString('base64url');
  const newKey = Buffer.alloc(32, 2).toString('base64url');
  const before = await loadSecretsKey({ fromEnv: oldKey, dataDir: dir });
  const sealedOld = await before.seal('p', 'x');
  const during = await loadSecretsKey({ fromEnv: newKey, accepted: [oldKey], dataDir: dir });
  expect(await during.open('p', sealedOld)).toBe('x');
  expect(during.sealsNow(sealedOld)).toBe(false);
  const sealedNew = await during.seal('p', 'y');
  expect(during.sealsNow(sealedNew)).toBe(true);
  // An instance not yet switched, told of the new key first, opens what the switched ones seal.
  const preparing = await loadSecretsKey({ fromEnv: oldKey, accepted: [newKey], dataDir: dir });
  expect(await preparing.open('p', sealedNew)).toBe('y');
  const after = await loadSecretsKey({ fromEnv: newKey, dataDir: dir });
  await expect(after.open('p', sealedOld)).rejects.toThrow('does not hold');
  await expect(loadSecretsKey({ fromEnv: newKey, accepted: ['c2hvcnQ'], dataDir: dir })).rejects.toThrow(
    'HOOKBOT_SECRETS_KEYS_ACCEPTED',
  );
});
