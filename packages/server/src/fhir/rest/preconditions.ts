/**
 * Conditional request headers (FHIR R4 http §3.1.0.5, RFC 7232) and their Bundle entry equivalents
 * (`Bundle.entry.request.ifMatch`…): `If-None-Match` and `If-Modified-Since` on read and vread (304), `If-Match` on
 * reads and writes (412), `If-None-Exist` on create. A condition an interaction does not take is a 400 naming it:
 * ignoring it would answer a success the client did not ask for (an unconditional write, a full read).
 */
import type { RouterContext } from '@koa/router';
import type { Resource } from '@medplum/fhirtypes';
import { HookbotError, preconditionFailed } from '../../infra/errors.js';

export interface Conditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifNoneExist?: string;
  /** Not supported anywhere (FHIR does not use it); present only to be refused. */
  ifUnmodifiedSince?: string;
}

export type Condition = keyof Conditions;

const HEADERS: Record<Condition, string> = {
  ifMatch: 'If-Match',
  ifNoneMatch: 'If-None-Match',
  ifModifiedSince: 'If-Modified-Since',
  ifNoneExist: 'If-None-Exist',
  ifUnmodifiedSince: 'If-Unmodified-Since',
};

/** The conditional headers of a request (empty ones count as absent). */
export function requestConditions(ctx: RouterContext): Conditions {
  const out: Conditions = {};
  for (const [key, header] of Object.entries(HEADERS) as [Condition, string][]) {
    const value = ctx.get(header);
    if (value) out[key] = value;
  }
  return out;
}

/** 400 `fhir.unsupported-condition` for a condition outside `allowed` (`what` names the interaction). */
export function refuseConditions(conditions: Conditions, allowed: readonly Condition[], what: string): void {
  for (const key of Object.keys(conditions) as Condition[]) {
    if (conditions[key] !== undefined && !allowed.includes(key)) {
      throw new HookbotError('fhir.unsupported-condition', `${HEADERS[key]} is not supported on ${what}`);
    }
  }
}

/** `W/"3"`, `"3"` or `3` → `3`. */
const versionOfTag = (tag: string): string =>
  tag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');

/** Whether `header` (a list of entity tags, or `*`) names the resource's version. */
function namesVersion(header: string, resource: Resource): boolean {
  const tags = header.split(',').map((t) => t.trim());
  return tags.includes('*') || tags.some((t) => versionOfTag(t) === resource.meta?.versionId);
}

/**
 * The status of a read of `resource` under `conditions`: 304 when `If-None-Match` names its version (or is `*`),
 * or, without `If-None-Match` (RFC 7232 §6), when it has not changed since `If-Modified-Since` (whole seconds, as
 * HTTP dates are); 412 when `If-Match` does not name it. An unparseable date is a 400, not a silent full read.
 */
export function readStatus(resource: Resource, conditions: Conditions): 200 | 304 {
  if (conditions.ifMatch !== undefined && !namesVersion(conditions.ifMatch, resource)) {
    throw preconditionFailed(`If-Match ${conditions.ifMatch} does not match the current version`);
  }
  if (conditions.ifNoneMatch !== undefined) return namesVersion(conditions.ifNoneMatch, resource) ? 304 : 200;
  if (conditions.ifModifiedSince !== undefined) {
    const since = Date.parse(conditions.ifModifiedSince);
    if (Number.isNaN(since)) {
      throw new HookbotError(
        'fhir.unsupported-condition',
        `If-Modified-Since is not a date: ${conditions.ifModifiedSince}`,
      );
    }
    const modified = Date.parse(resource.meta?.lastUpdated ?? '');
    if (!Number.isNaN(modified) && Math.floor(modified / 1000) * 1000 <= since) return 304;
  }
  return 200;
}
