/**
 * `POST /fhir/R4/$pas-callback`: a partner registers where its decisions go besides Subscriptions — a callback URL
 * protected by its own OAuth2 token endpoint (client credentials), as payers' partners commonly require. One per
 * client; both URLs must pass the SSRF guard; the client secret is sealed with the secrets key and never returned.
 */
import type { Caller } from '../auth/access-token.js';
import type { Repository } from '../fhir/repository.js';
import { invalidIssues, locatedIssues, type LocatedProblem } from '../infra/errors.js';
import { requirePas } from '../pas/access.js';
import type { Services } from '../services.js';
import { saveCallback } from './store.js';
import { checkPartnerUrl } from './url-policy.js';

export async function registerCallback(
  services: Services,
  caller: Caller,
  repo: Repository,
  body: unknown,
): Promise<{ url: string; tokenUrl: string; clientId: string }> {
  requirePas('subscribe', caller, repo.access);
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const problems: LocatedProblem[] = [];
  for (const field of ['url', 'tokenUrl', 'clientId', 'clientSecret'])
    if (typeof input[field] !== 'string' || !input[field])
      problems.push({ path: field, message: `"${field}" is required` });
  if (input.scope !== undefined && typeof input.scope !== 'string')
    problems.push({ path: 'scope', message: '"scope" must be a string' });
  if (problems.length) throw invalidIssues('delivery.invalid-callback', locatedIssues(problems));
  const projectId = repo.access.projectId;
  const policy = await services.deliveries.partnerPolicy(projectId);
  await checkPartnerUrl(input.url as string, policy, 'url');
  await checkPartnerUrl(input.tokenUrl as string, policy, 'tokenUrl');
  await saveCallback(services.db, {
    projectId,
    clientId: caller.clientId,
    url: input.url as string,
    tokenUrl: input.tokenUrl as string,
    oauthClientId: input.clientId as string,
    oauthClientSecret: await services.secretsKey.seal(projectId, input.clientSecret as string),
    scope: typeof input.scope === 'string' ? input.scope : null,
  });
  return { url: input.url as string, tokenUrl: input.tokenUrl as string, clientId: input.clientId as string };
}
