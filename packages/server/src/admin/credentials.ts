/**
 * Replacing a client's credentials revokes every token issued under the old ones, on every instance: the client
 * moves to its next credential generation (`auth/clients.ts`) and the previous generation is marked revoked in the
 * shared state (`auth/revocation.ts`). A new secret is shown once; a key client's key set (or JWKS URL) is replaced
 * whole, so removing a key is sending the set without it.
 */
import { replaceCredentials, checkNewClient, findClient, type CredentialChange } from '../auth/clients.js';
import { markGenerationRevoked } from '../auth/revocation.js';
import { generateSecret } from '../auth/secrets.js';
import { badRequest, notFound } from '../infra/errors.js';
import type { Services } from '../services.js';

async function replace(services: Services, projectId: string, clientId: string, change: CredentialChange) {
  const previous = await replaceCredentials(services.db, projectId, clientId, change);
  if (previous === undefined) throw notFound('admin.client-not-found', `Client ${clientId} not found in the project`);
  await markGenerationRevoked(services.shared, clientId, previous, services.config.accessTokenTtlSeconds);
}

async function projectClient(services: Services, projectId: string, clientId: string) {
  const client = await findClient(services.db, clientId);
  if (!client || client.projectId !== projectId) {
    throw notFound('admin.client-not-found', `Client ${clientId} not found in the project`);
  }
  return client;
}

/** A new secret for a secret client; its tokens issued before are refused from now on. */
export async function rotateSecret(services: Services, projectId: string, clientId: string) {
  const client = await projectClient(services, projectId, clientId);
  if (!client.secretHash)
    throw badRequest('admin.invalid-request', 'This client authenticates with keys, not a secret');
  const clientSecret = generateSecret();
  await replace(services, projectId, clientId, { secret: clientSecret });
  return { clientId, clientSecret };
}

/** A key client's new key set (`{"jwks"}` or `{"jwksUri"}`); its tokens issued before are refused from now on. */
export async function replaceKeys(services: Services, projectId: string, clientId: string, body: unknown) {
  const client = await projectClient(services, projectId, clientId);
  if (!client.issuer) throw badRequest('admin.invalid-request', 'This client authenticates with a secret, not keys');
  // The registration's own checks of `jwks` and `jwksUri`, for a client that keeps its name and issuer.
  const fields = typeof body === 'object' && body !== null ? body : {};
  const keys = checkNewClient({ ...fields, name: client.name, issuer: client.issuer, role: client.role });
  if (!keys.jwks && !keys.jwksUri) throw badRequest('admin.invalid-request', 'Send "jwks" or "jwksUri"', 'jwks');
  await replace(services, projectId, clientId, { jwks: keys.jwks ?? null, jwksUri: keys.jwksUri ?? null });
  await services.issuers.changed(client.issuer);
  return { clientId, ...(keys.jwksUri ? { jwksUri: keys.jwksUri } : {}) };
}
