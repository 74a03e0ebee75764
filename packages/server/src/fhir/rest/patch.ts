/**
 * PATCH [base]/[type]/[id] with a JSON Patch (`application/json-patch+json`, RFC 6902; FHIR R4 http §3.1.0.6) or a
 * FHIRPath Patch (a `Parameters` resource in `application/fhir+json`, `fhirpath-patch.ts`): the patched resource is
 * validated and written as an update of the version patched, so a concurrent change is a 412 instead of a lost
 * update; `If-Match` names that version explicitly.
 */
import type { RouterContext } from '@koa/router';
import type { Operation } from 'fast-json-patch';
import jsonPatch from 'fast-json-patch';
import { badRequest, HookbotError } from '../../infra/errors.js';
import type { Repository } from '../repository.js';
import { applyFhirPathPatch, isFhirPathPatch } from './fhirpath-patch.js';
import { refuseConditions, requestConditions } from './preconditions.js';
import { param, resourceOfType, sendResource } from './respond.js';
import { updateAt, type Written } from './update.js';

export const JSON_PATCH = 'application/json-patch+json';
/** The bodies PATCH takes (CapabilityStatement `patchFormat`). */
export const PATCH_FORMATS = [JSON_PATCH, 'application/fhir+json'];

export async function patchHandler(ctx: RouterContext): Promise<void> {
  const body = (ctx.request as { body?: unknown }).body;
  const fhirPath = ctx.is('application/fhir+json', 'application/json') !== false && isFhirPathPatch(body);
  if (!ctx.is(JSON_PATCH) && !fhirPath) {
    throw new HookbotError(
      'request.unsupported-media-type',
      `PATCH takes a JSON Patch (${JSON_PATCH}) or a FHIRPath Patch (a Parameters resource in application/fhir+json)`,
    );
  }
  if (ctx.is(JSON_PATCH) && !Array.isArray(body)) {
    throw badRequest('fhir.invalid-patch', 'A JSON Patch is a list of operations');
  }
  const { ifMatch, ...others } = requestConditions(ctx);
  refuseConditions(others, [], 'patch');
  sendResource(
    ctx,
    (await patchResource(ctx.state.repo, param(ctx, 'type'), param(ctx, 'id'), body, ifMatch)).resource,
  );
}

/**
 * Applies `patch` (a JSON Patch, a list; or a FHIRPath Patch, a Parameters resource) to `[type]/[id]` and writes the
 * result as an update of the version read.
 */
export async function patchResource(
  repo: Repository,
  type: string,
  id: string,
  patch: unknown,
  ifMatch?: string,
): Promise<Written> {
  if (!Array.isArray(patch) && !isFhirPathPatch(patch)) {
    throw badRequest('fhir.invalid-patch', 'A patch is a JSON Patch (a list of operations) or a Parameters resource');
  }
  const current = await repo.read(type, id);
  const expected = ifMatch ?? `W/"${current.meta?.versionId ?? ''}"`;
  // A path may name `resourceType` too: the patched resource must stay of the URL's type.
  if (isFhirPathPatch(patch))
    return updateAt(repo, id, resourceOfType(applyFhirPathPatch(current, patch), type), expected);
  let patched: unknown;
  try {
    patched = jsonPatch.applyPatch(current, patch as Operation[], true, false).newDocument;
  } catch (err) {
    if (!(err instanceof jsonPatch.JsonPatchError)) throw err;
    if (err.name === 'TEST_OPERATION_FAILED') {
      throw new HookbotError('request.unprocessable', `The patch's test operation ${err.index ?? ''} failed`);
    }
    throw badRequest('fhir.invalid-patch', `Operation ${err.index ?? ''}: ${err.message.split('\n')[0] ?? ''}`);
  }
  return updateAt(repo, id, resourceOfType(patched, type), expected);
}
