/**
 * The key that encrypts project secrets at rest (AES-256-GCM as a compact JWE, `dir` + `A256GCM`). From
 * `HOOKBOT_SECRETS_KEY` (32 bytes, base64url) when set, as every instance sharing a database needs the same key;
 * otherwise created once in `<data dir>/secrets.key` (mode 0600), which serves the embedded single instance.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { compactDecrypt, CompactEncrypt } from 'jose';
import { ConfigError } from '../infra/config.js';

export interface SecretsKey {
  /** Encrypts `plaintext` for one project: the ciphertext does not open for another project. */
  seal(projectId: string, plaintext: string): Promise<string>;
  open(projectId: string, sealed: string): Promise<string>;
  /** Where the key came from, for the start-up log (never the key). */
  readonly source: 'environment' | 'data folder';
}

export async function loadSecretsKey(options: { fromEnv?: string; dataDir: string }): Promise<SecretsKey> {
  if (options.fromEnv) return secretsKey(decodeKey(options.fromEnv), 'environment');
  const file = path.join(options.dataDir, 'secrets.key');
  let encoded: string;
  try {
    encoded = (await readFile(file, 'utf8')).trim();
  } catch {
    await mkdir(options.dataDir, { recursive: true });
    encoded = randomBytes(32).toString('base64url');
    // `wx`: two processes starting on one folder keep the first key.
    await writeFile(file, `${encoded}\n`, { mode: 0o600, flag: 'wx' }).catch(async () => {
      encoded = (await readFile(file, 'utf8')).trim();
    });
  }
  return secretsKey(decodeKey(encoded), 'data folder');
}

function decodeKey(encoded: string): Uint8Array {
  const key = Buffer.from(encoded.trim(), 'base64url');
  if (key.length !== 32) throw new ConfigError('HOOKBOT_SECRETS_KEY must be 32 bytes, base64url-encoded');
  return key;
}

function secretsKey(key: Uint8Array, source: SecretsKey['source']): SecretsKey {
  return {
    source,
    // The project id sits in the protected header, which the authentication tag covers.
    seal: (projectId, plaintext) =>
      new CompactEncrypt(new TextEncoder().encode(plaintext))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', hookbotProject: projectId })
        .encrypt(key),
    open: async (projectId, sealed) => {
      const { plaintext, protectedHeader } = await compactDecrypt(sealed, key, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      if (protectedHeader.hookbotProject !== projectId) throw new Error('The secrets belong to another project');
      return new TextDecoder().decode(plaintext);
    },
  };
}
