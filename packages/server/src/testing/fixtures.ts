/** Small valid resources for tests and benchmarks. */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { AccessPolicy, Interaction } from '../auth/access.js';

/** A fresh tenant, so tests sharing a database never see each other's data. */
export function newProjectId(): string {
  return `project-${randomUUID()}`;
}

/** Full access to one project, or only the listed interactions per type (`{ Patient: 'rs' }`). */
export function testAccess(projectId = newProjectId(), only?: Record<string, string>): AccessPolicy {
  return {
    projectId,
    allows: (type: string, interaction: Interaction) => (only ? (only[type] ?? '').includes(interaction) : true),
  };
}

export type JsonResource = Resource & Record<string, unknown>;

export function patient(fields: Record<string, unknown> = {}): JsonResource {
  return { resourceType: 'Patient', name: [{ family: 'Smith', given: ['Jane'] }], ...fields } as JsonResource;
}

export function coverage(beneficiaryId: string, fields: Record<string, unknown> = {}): JsonResource {
  return {
    resourceType: 'Coverage',
    status: 'active',
    beneficiary: { reference: `Patient/${beneficiaryId}` },
    payor: [{ reference: 'Organization/payer-1' }],
    ...fields,
  } as JsonResource;
}

export function bot(name: string, hook?: string, fields: Record<string, unknown> = {}): JsonResource {
  return {
    resourceType: 'Bot',
    name,
    ...(hook ? { cdsService: { hook, title: `${name} title`, description: `${name} description` } } : {}),
    ...fields,
  } as JsonResource;
}
