/** Request and response plumbing shared by the FHIR handlers. */
import type { RouterContext } from '@koa/router';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../infra/errors.js';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export function sendResource(ctx: RouterContext, resource: Resource, status = 200): void {
  ctx.status = status;
  ctx.type = FHIR_JSON;
  ctx.body = resource;
  const { versionId, lastUpdated } = resource.meta ?? {};
  if (versionId) {
    ctx.set('ETag', `W/"${versionId}"`);
  }
  if (lastUpdated) {
    ctx.set('Last-Modified', new Date(lastUpdated).toUTCString());
  }
}

/** 304 Not Modified: no body, the version's ETag and Last-Modified (RFC 7232 §4.1). */
export function sendNotModified(ctx: RouterContext, resource: Resource): void {
  sendResource(ctx, resource);
  ctx.body = null;
  ctx.status = 304;
}

export function sendJson(ctx: RouterContext, body: unknown): void {
  ctx.status = 200;
  ctx.type = FHIR_JSON;
  ctx.body = body;
}

export function versionLocation(ctx: RouterContext, resource: Resource): string {
  return `${ctx.state.repo.fhirBase}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
}

/** The parsed body as a resource of the URL's type; the repository validates the rest. */
export function bodyResource(ctx: RouterContext): Resource {
  return resourceOfType((ctx.request as { body?: unknown }).body, param(ctx, 'type'));
}

/** `body` as a resource of `type` (a URL's, or a Bundle entry's request URL's). */
export function resourceOfType(body: unknown, type: string): Resource {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('fhir.invalid-resource', 'Request body must be a FHIR resource (JSON object)');
  }
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (resourceType !== type) {
    throw badRequest(
      'fhir.invalid-resource',
      `resourceType "${String(resourceType)}" does not match the URL (${type})`,
      'resourceType',
    );
  }
  return body as Resource;
}

export function param(ctx: RouterContext, name: string): string {
  return ctx.params[name] ?? '';
}
