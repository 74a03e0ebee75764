/**
 * Which records the server wrote itself (bot runs, CDS Hooks feedback): they carry the `meta.tag` below, which only
 * the store adds (`createMany(…, { serverRecorded: true })`, reachable from server code alone). A create or update
 * through any client path (REST, a bot's FHIR client) that carries the tag is refused, so a copy of a server
 * event cannot pass for one, and whatever trusts events (feedback statistics) filters on the tag. Clients may still
 * write AuditEvents of their own (FHIR allows it, and a payer's systems may log to the same trail); those simply
 * lack the tag. Searchable: `AuditEvent?_tag=https://hookbot.dev/fhir/CodeSystem/record-origin|server`.
 */
import type { Coding, Resource } from '@medplum/fhirtypes';
import { forbidden } from '../infra/errors.js';

export const RECORD_ORIGIN_SYSTEM = 'https://hookbot.dev/fhir/CodeSystem/record-origin';
const SERVER_RECORDED_CODE = 'server';

export const SERVER_RECORDED_TAG: Coding = {
  system: RECORD_ORIGIN_SYSTEM,
  code: SERVER_RECORDED_CODE,
  display: 'Recorded by the Hookbot server',
};

/** Whether the resource carries any tag of the record-origin system (whatever its code). */
function claimsRecordOrigin(resource: Resource): boolean {
  const tags: unknown = resource.meta?.tag;
  return (
    Array.isArray(tags) &&
    tags.some((t: unknown) => typeof t === 'object' && t !== null && (t as Coding).system === RECORD_ORIGIN_SYSTEM)
  );
}

/** 403 when a resource a client sent claims a record origin: only the server assigns one. */
export function refuseRecordOriginClaim(resource: Resource): void {
  if (claimsRecordOrigin(resource)) {
    throw forbidden(
      'fhir.reserved-tag',
      `meta.tag of system ${RECORD_ORIGIN_SYSTEM} is reserved to records the server writes itself`,
    );
  }
}

/** The resource with the server-recorded tag (any other record-origin tag replaced). */
export function markServerRecorded<T extends Resource>(resource: T): T {
  const tags = (resource.meta?.tag ?? []).filter((t) => t.system !== RECORD_ORIGIN_SYSTEM);
  return { ...resource, meta: { ...resource.meta, tag: [...tags, SERVER_RECORDED_TAG] } };
}
