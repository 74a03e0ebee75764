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
