/**
 * Mutual TLS (RFC 8705) for a profile with a client certificate: a fetch whose connections present it. Loaded only
 * when a profile has one, so other commands never load undici. A private CA is trusted with NODE_EXTRA_CA_CERTS.
 */
import { readFile } from 'node:fs/promises';
import { Agent, fetch as undiciFetch } from 'undici';
import { usageError } from './errors.js';

async function readPem(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw usageError(`Cannot read ${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

export async function mtlsFetch(certFile: string, keyFile: string): Promise<typeof fetch> {
  const [cert, key] = await Promise.all([readPem(certFile, '--cert'), readPem(keyFile, '--key')]);
  const dispatcher = new Agent({ connect: { cert, key } });
  return ((input: string, init?: RequestInit) =>
    undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher })) as unknown as typeof fetch;
}
