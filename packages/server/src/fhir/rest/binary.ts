/**
 * A Binary as its own content (FHIR R4 binary.html §6.1.2.1 "Serving Binary Resources using the RESTful API"):
 * written in any media type but JSON, the bytes are stored base64 in `data` with the media type as sent; read with
 * an `Accept` naming no JSON type (`*` included), the bytes are answered in that media type. Medplum's clients upload
 * files (bot source code as `text/typescript`) and download them so.
 */
import type { RouterContext } from '@koa/router';
import type { Binary, Resource } from '@medplum/fhirtypes';

/** The raw body (read as bytes by `infra/body.ts`) as a Binary, or undefined when the body is a resource. */
export function rawBinary(ctx: RouterContext, id?: string): Binary | undefined {
  const body = (ctx.request as { body?: unknown }).body;
  if (ctx.params.type !== 'Binary' || !Buffer.isBuffer(body)) return undefined;
  return {
    resourceType: 'Binary',
    ...(id ? { id } : {}),
    contentType: ctx.get('content-type').trim(),
    data: body.toString('base64'),
  };
}

/** What a raw write answers: the Binary without its bytes, and `url` where they are read (what Medplum returns). */
export function binaryReceipt(binary: Resource): Resource {
  const { data: _data, ...rest } = binary as Binary;
  return { ...rest, url: `Binary/${binary.id}` } as Resource;
}

/** Sends a Binary's own content when the caller asked for no JSON; false when the resource should be sent. */
export function sendRawBinary(ctx: RouterContext, resource: Resource): boolean {
  const accept = ctx.get('accept');
  if (resource.resourceType !== 'Binary' || accept === '' || /json/i.test(accept)) return false;
  ctx.status = 200;
  // As stored: Koa's `ctx.type` would add a charset the uploader did not send.
  ctx.set('Content-Type', resource.contentType || 'application/octet-stream');
  // An uploaded file is never rendered as a page of this origin: a download, sandboxed, never sniffed.
  ctx.set('Content-Disposition', 'attachment');
  ctx.set('Content-Security-Policy', "sandbox; default-src 'none'");
  if (resource.meta?.versionId) ctx.set('ETag', `W/"${resource.meta.versionId}"`);
  ctx.body = Buffer.from(resource.data ?? '', 'base64');
  return true;
}
