/**
 * `POST /admin/projects/{id}/bot {name, description?, runtimeVersion?}`: what Medplum's `medplum bot create` calls
 * before it saves and deploys the code (`bot save`, `$deploy`). Hookbot creates the Bot in the caller's own project
 * with the caller's scopes (Bot create: an administrator or a bot developer), and answers it (201). Medplum's
 * `runtimeVersion` (AWS Lambda or VM context) is not kept: every Hookbot bot runs in its sandbox. Any project id but
 * the token's, existing or not, is the same 403.
 */
import type { Bot } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.js';
import { badRequest, forbidden } from '../infra/errors.js';

export async function createProjectBot(repo: Repository, projectId: string, body: unknown): Promise<Bot> {
  if (projectId !== repo.access.projectId) {
    throw forbidden('auth.other-project', `This token belongs to another project than ${projectId}`);
  }
  // The caller's right to create Bots before anything it sent is read.
  if (!repo.access.allows('Bot', 'c')) throw forbidden('auth.forbidden-scope', 'Not allowed to create Bot');
  const { name, description } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '')
    throw badRequest('bot.invalid-request', '"name" is required', 'name');
  if (description !== undefined && typeof description !== 'string') {
    throw badRequest('bot.invalid-request', '"description" must be a string', 'description');
  }
  return repo.create<Bot>({ resourceType: 'Bot', name: name.trim(), ...(description ? { description } : {}) });
}
