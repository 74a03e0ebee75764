/**
 * `POST /fhir/R4/$submit-attachment` (Da Vinci CDex) with `AttachTo` = `preauthorization`: documents for a pended
 * request. The authorization is found by `TrackingId` (its Claim identifier or PAS reference) or `AdminRefNumber`,
 * for the given `MemberId`, among those the calling client submitted; the documents are kept with it and the
 * adjudication bot decides the pended items again (the input's `attachments`). The answer is an OperationOutcome
 * (CDex defines no output); the new decision reaches the submitter as a new ClaimResponse version, through its
 * Subscriptions and callbacks.
 */
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Caller } from '../auth/access-token.js';
import type { Repository } from '../fhir/repository.js';
import { HookbotError, invalidIssues, locatedIssues, notFound, type LocatedProblem } from '../infra/errors.js';
import type { Services } from '../services.js';
import { requirePas } from './access.js';
import { claimIdentifierKeys } from './claim-records.js';
import { findMember } from './member.js';
import { requestOf } from './record.js';
import { redecide } from './redecide.js';
import { findByReference } from './store.js';

export interface AttachmentInput {
  services: Services;
  caller: Caller;
  repo: Repository;
  body: unknown;
  requestIds?: { requestId: string; traceId: string };
}

interface Param {
  name?: string;
  valueString?: string;
  valueCode?: string;
  valueIdentifier?: { system?: string; value?: string };
  valueCodeableConcept?: { coding?: { system?: string; code?: string }[] };
  resource?: Resource;
  part?: Param[];
}

export interface ReceivedAttachment {
  lineItems: number[];
  code?: { system?: string; code?: string };
  content: Resource;
  received: string;
}

interface AttachmentRequest {
  keys: string[];
  memberId: string;
  attachments: ReceivedAttachment[];
}

export function parseAttachmentRequest(body: unknown): AttachmentRequest {
  const problems: LocatedProblem[] = [];
  const params = (
    typeof body === 'object' && body !== null && (body as { resourceType?: unknown }).resourceType === 'Parameters'
      ? ((body as { parameter?: Param[] }).parameter ?? [])
      : undefined
  ) as Param[] | undefined;
  if (!params)
    throw invalidIssues(
      'pas.invalid-attachment',
      locatedIssues([{ path: 'Parameters', message: 'The body must be a Parameters resource' }]),
    );
  const one = (name: string) => params.find((p) => p.name === name);
  const tracking = one('TrackingId')?.valueIdentifier;
  const adminRef = one('AdminRefNumber')?.valueString;
  const member = one('MemberId')?.valueIdentifier?.value;
  const attachTo = one('AttachTo')?.valueCode;
  if (!tracking?.value)
    problems.push({ path: "Parameters.parameter.where(name='TrackingId')", message: 'TrackingId is required' });
  if (!member) problems.push({ path: "Parameters.parameter.where(name='MemberId')", message: 'MemberId is required' });
  if (attachTo !== 'preauthorization')
    problems.push({
      path: "Parameters.parameter.where(name='AttachTo')",
      message: 'AttachTo must be "preauthorization" (claims are not handled here)',
    });
  const attachments: ReceivedAttachment[] = [];
  params
    .filter((p) => p.name === 'Attachment')
    .forEach((p, i) => {
      const parts = p.part ?? [];
      const content = parts.find((x) => x.name === 'Content')?.resource;
      if (!content?.resourceType) {
        problems.push({
          path: `Parameters.parameter.where(name='Attachment')[${i}].part.where(name='Content')`,
          message: 'Each Attachment needs its Content resource',
        });
        return;
      }
      const code = parts.find((x) => x.name === 'Code')?.valueCodeableConcept?.coding?.[0];
      attachments.push({
        lineItems: parts
          .filter((x) => x.name === 'LineItem')
          .map((x) => Number(x.valueString))
          .filter((n) => Number.isInteger(n) && n > 0),
        ...(code
          ? { code: { ...(code.system ? { system: code.system } : {}), ...(code.code ? { code: code.code } : {}) } }
          : {}),
        content,
        received: new Date().toISOString(),
      });
    });
  if (attachments.length === 0 && problems.length === 0)
    problems.push({
      path: "Parameters.parameter.where(name='Attachment')",
      message: 'At least one Attachment is required',
    });
  if (problems.length) throw invalidIssues('pas.invalid-attachment', locatedIssues(problems));
  const adminPreAuthRef = adminRef ? /^PEND-(.+)-\d+$/.exec(adminRef)?.[1] : undefined;
  return {
    keys: [
      ...claimIdentifierKeys({ identifier: tracking ? [tracking] : [] }),
      ...(adminPreAuthRef ? [adminPreAuthRef] : []),
    ],
    memberId: member as string,
    attachments,
  };
}

export async function submitAttachment(input: AttachmentInput): Promise<OperationOutcome> {
  const { services, caller, repo } = input;
  requirePas('submit', caller, repo.access);
  const projectId = repo.access.projectId;
  const parsed = parseAttachmentRequest(input.body);
  const row = (await findByReference(services.db, projectId, caller.clientId, parsed.keys)).find(
    (r) => r.memberId === parsed.memberId,
  );
  if (!row)
    throw notFound(
      'pas.authorization-not-found',
      'No prior authorization of this member matches TrackingId or AdminRefNumber',
    );
  const wanted = new Set(parsed.attachments.flatMap((a) => a.lineItems));
  const pended = (row.decision?.items ?? [])
    .filter((i) => i.action === 'A4' && (wanted.size === 0 || wanted.has(i.sequence)))
    .map((i) => i.sequence);
  const attachments = [...row.attachments, ...parsed.attachments];
  const member = await findMember(services.db, projectId, row.memberId);
  if (!member) throw new HookbotError('pas.member-not-covered', `Member ${row.memberId} is no longer covered`);
  const request = requestOf(row.requestBundle);
  const recorded = await redecide({
    services,
    projectId,
    caller,
    cause: 'attachment',
    row,
    fhirBase: repo.fhirBase,
    claim: request.claim,
    bundle: request.bundle,
    member,
    memberId: row.memberId,
    sequences: pended,
    attachments,
    ...(input.requestIds ? { requestIds: input.requestIds } : {}),
    record: { attachments },
  });
  const summary = recorded.decision.items.map((i) => `item ${i.sequence}: ${i.action}`).join(', ');
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'information',
        code: 'informational',
        diagnostics: `${parsed.attachments.length} attachment(s) received for ${row.preAuthRef}; ${pended.length ? `re-decided ${summary}` : `no pended item to decide (${summary})`}`,
      },
    ],
  };
}
