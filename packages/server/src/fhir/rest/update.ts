/**
 * PUT [base]/[type]/[id] → 200, or 201 when it created the resource (FHIR R4 http §3.1.0.4 "update").
 * `If-Match: W/"n"` makes it conditional on the current version (412 otherwise, §3.1.0.5 "managing contention").
 */
import type { RouterContext } from '@koa/router';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../infra/errors.js';
import type { Repository } from '../repository.js';
import { binaryReceipt, rawBinary } from './binary.js';
import { refuseConditions, requestConditions } from './preconditions.js';
import { bodyResource, param, sendResource, versionLocation } from './respond.js';

/** Updates honour `If-Match` (CapabilityStatement `versioning: versioned-update`) and PUT to a new id creates. */
export const UPDATE_CAPABILITIES = { versionAware: true, updateCreate: true } as const;

export async function updateHandler(ctx: RouterContext): Promise<void> {
  const conditions = requestConditions(ctx);
  refuseConditions(conditions, ['ifMatch'], 'update');
  const raw = rawBinary(ctx, param(ctx, 'id'));
  const { resource: updated, created } = await updateAt(
    ctx.state.repo,
    param(ctx, 'id'),
    raw ?? bodyResource(ctx),
    conditions.ifMatch,
  );
  if (created) {
    ctx.set('Location', versionLocation(ctx, updated));
  }
  sendResource(ctx, raw ? binaryReceipt(updated) : updated, created ? 201 : 200);
}

/** A resource written, and whether the write created it. */
export interface Written {
  resource: Resource;
  created: boolean;
}

/** The update of `[type]/[id]` with `resource` (already of the URL's type); `created` when it did not exist. */
export async function updateAt(repo: Repository, id: string, resource: Resource, ifMatch?: string): Promise<Written> {
  if (resource.id !== id) {
    throw badRequest('fhir.invalid-resource', `Resource id must match the URL (${id})`, `${resource.resourceType}.id`);
  }
  const updated = await repo.update(resource, ifMatch ? { ifMatch } : {});
  return { resource: updated, created: updated.meta?.versionId === '1' };
}
