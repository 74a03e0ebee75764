/**
 * The key that encrypts project secrets at rest (AES-256-GCM as a compact JWE, `dir` + `A256GCM`). From
 * `HOOKBOT_SECRETS_KEY` (32 bytes, base64url) when set, as every instance sharing a database needs the same key;
 * otherwise created once in `<data dir>/secrets.key` (mode 0600), which serves the embedded single instance.
 * While the key is rotated, `HOOKBOT_SECRETS_KEYS_ACCEPTED` names further keys that open what they sealed; each
 * sealed value names its key (`kid`, a digest of the key), so opening never tries keys in turn, except for values
 * sealed before keys were named.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { compactDecrypt, CompactEncrypt, decodeProtectedHeader } from 'jose';
import { ConfigError } from '../infra/config.js';

export interface SecretsKey {
  /** Encrypts `plaintext` for one project: the ciphertext does not open for another project. */
  seal(projectId: string, plaintext: string): Promise<string>;
  open(projectId: string, sealed: string): Promise<string>;
  /** Whether `sealed` was sealed with the key that seals now (else `resealSecrets` seals it again). */
  sealsNow(sealed: string): boolean;
  /** Where the key came from, for the start-up log (never the key). */
  readonly source: 'environment' | 'data folder';
}

export async function loadSecretsKey(options: {
  fromEnv?: string;
  accepted?: string[];
  dataDir: string;
}): Promise<SecretsKey> {
  const accepted = (options.accepted ?? []).map((k) => decodeKey(k, 'HOOKBOT_SECRETS_KEYS_ACCEPTED'));
  if (options.fromEnv) return secretsKey(decodeKey(options.fromEnv), accepted, 'environment');
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
  return secretsKey(decodeKey(encoded), accepted, 'data folder');
}

function decodeKey(encoded: string, variable = 'HOOKBOT_SECRETS_KEY'): Uint8Array {
  const key = Buffer.from(encoded.trim(), 'base64url');
  if (key.length !== 32) throw new ConfigError(`${variable} must hold keys of 32 bytes, base64url-encoded`);
  return key;
}

const keyId = (key: Uint8Array) => createHash('sha256').update(key).digest('base64url').slice(0, 16);

function headerKid(sealed: string): string | undefined {
  try {
    const { kid } = decodeProtectedHeader(sealed);
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

function secretsKey(key: Uint8Array, accepted: Uint8Array[], source: SecretsKey['source']): SecretsKey {
  const kid = keyId(key);
  const keys = new Map([...accepted, key].map((k) => [keyId(k), k]));
  const openWith = async (k: Uint8Array, projectId: string, sealed: string) => {
    const { plaintext, protectedHeader } = await compactDecrypt(sealed, k, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    if (protectedHeader.hookbotProject !== projectId) throw new Error('The secrets belong to another project');
    return new TextDecoder().decode(plaintext);
  };
  return {
    source,
    // The project id and the key's id sit in the protected header, which the authentication tag covers.
    seal: (projectId, plaintext) =>
      new CompactEncrypt(new TextEncoder().encode(plaintext))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid, hookbotProject: projectId })
        .encrypt(key),
    open: async (projectId, sealed) => {
      const named = headerKid(sealed);
      if (named !== undefined) {
        const k = keys.get(named);
        if (!k) throw new Error('The secrets were sealed with a key this server does not hold');
        return openWith(k, projectId, sealed);
      }
      // Sealed before values named their key: the current key first, then the accepted ones.
      let failure: unknown;
      for (const k of [key, ...accepted]) {
        try {
          return await openWith(k, projectId, sealed);
        } catch (err) {
          failure = err;
        }
      }
      throw failure;
    },
    sealsNow: (sealed) => headerKid(sealed) === kid,
  };
}
