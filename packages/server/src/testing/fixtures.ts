/** Small valid resources for tests and benchmarks. */
import { randomUUID } from 'node:crypto';
import type { AuditEvent, Bot, Coverage, Patient } from '@medplum/fhirtypes';
import type { AccessPolicy, Interaction } from '../auth/access.js';

/** A fresh tenant, so tests sharing a database never see each other's data. */
function newProjectId(): string {
  return `project-${randomUUID()}`;
}

/** Full access to one project, or only the listed interactions per type (`{ Patient: 'rs' }`). */
export function testAccess(projectId = newProjectId(), only?: Record<string, string>): AccessPolicy {
  return {
    projectId,
    allows: (type: string, interaction: Interaction) => (only ? (only[type] ?? '').includes(interaction) : true),
  };
}

/** Bot as Hookbot stores it: Medplum's Bot plus the `cdsService` extension element. */
export type HookbotBot = Bot & { cdsService?: Record<string, unknown> };

export function patient(fields: Record<string, unknown> = {}): Patient {
  return { resourceType: 'Patient', name: [{ family: 'Smith', given: ['Jane'] }], ...fields } as Patient;
}

export function coverage(beneficiaryId: string, fields: Record<string, unknown> = {}): Coverage {
  return {
    resourceType: 'Coverage',
    status: 'active',
    beneficiary: { reference: `Patient/${beneficiaryId}` },
    payor: [{ reference: 'Organization/payer-1' }],
    ...fields,
  } as Coverage;
}

export function bot(name: string, hook?: string, fields: Record<string, unknown> = {}): HookbotBot {
  return {
    resourceType: 'Bot',
    name,
    ...(hook ? { cdsService: { hook, title: `${name} title`, description: `${name} description` } } : {}),
    ...fields,
  } as HookbotBot;
}

export function auditEvent(botId: string, fields: Record<string, unknown> = {}): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    type: { system: 'https://hookbot.dev/fhir/CodeSystem/audit-event-type', code: 'execute' },
    recorded: new Date().toISOString(),
    outcome: '0',
    agent: [{ requestor: true, who: { display: 'test-client' } }],
    source: { observer: { display: 'hookbot' } },
    entity: [{ what: { reference: `Bot/${botId}` } }],
    ...fields,
  } as AuditEvent;
}
