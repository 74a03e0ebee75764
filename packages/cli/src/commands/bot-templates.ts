/**
 * The files `bot create` writes. The bot is self-contained TypeScript (no imports), so it bundles to one
 * CommonJS file and runs in the sandbox with nothing from the host; its test uses only `node:test`.
 */
import { HOOK_CATALOGUE, type HookContextField, type KnownHook } from '@hookbot/bots';

export interface TemplateInput {
  name: string;
  hook?: KnownHook;
}

export function botSource({ name, hook }: TemplateInput): string {
  if (!hook) return plainBotSource(name);
  return `/**
 * ${name}: answers the CDS Hooks "${hook}" hook with one information card.
 * Deploy with \`hookbot bot deploy ${name}\`; EHRs call it at POST /cds-services/{Bot id}.
 */
interface CdsRequest {
  hook: string;
  hookInstance: string;
  context: Record<string, unknown>;
  prefetch?: Record<string, unknown>;
}

interface CdsCard {
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { label: string };
}

interface BotEvent {
  input: CdsRequest;
}

export async function handler(_medplum: unknown, event: BotEvent): Promise<{ cards: CdsCard[] }> {
  const { context } = event.input;
  const patient = typeof context.patientId === 'string' ? context.patientId : 'unknown';
  const orders = countEntries(context.draftOrders ?? context.appointments);
  console.log(\`${hook} for patient \${patient}\`);
  return {
    cards: [
      {
        // CDS Hooks: summary must stay under 140 characters.
        summary: \`${name} reviewed \${orders} item(s) for patient \${patient}\`.slice(0, 139),
        detail: 'Edit bots/${name}/index.ts to decide what this card says.',
        indicator: 'info',
        source: { label: '${name}' },
      },
    ],
  };
}

function countEntries(bundle: unknown): number {
  const entry = (bundle as { entry?: unknown[] } | undefined)?.entry;
  return Array.isArray(entry) ? entry.length : 0;
}
`;
}

function plainBotSource(name: string): string {
  return `/**
 * ${name}: a Hookbot bot. \`hookbot bot execute ${name} --input bots/${name}/request.json\` runs it on the server.
 */
interface BotEvent {
  input: unknown;
}

export async function handler(_medplum: unknown, event: BotEvent): Promise<{ bot: string; received: unknown }> {
  console.log('${name} called');
  return { bot: '${name}', received: event.input };
}
`;
}

export function botTest({ name, hook }: TemplateInput): string {
  const assertions = hook
    ? `  assert.equal(result.cards.length, 1);
  assert.match(result.cards[0]?.summary ?? '', /${name} reviewed/);`
    : `  assert.deepEqual(result, { bot: '${name}', received: request });`;
  return `/** Run with: npx tsx --test bots/${name}/index.test.ts */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { handler } from './index.js';

const request = JSON.parse(readFileSync(new URL('./request.json', import.meta.url), 'utf8'));

test('${name} answers the sample request', async () => {
  const result = await handler({}, { input: request });
${assertions}
});
`;
}

/** A request that satisfies the hook's required context (CDS Hooks Library); ids are placeholders. */
export function sampleRequest({ name, hook }: TemplateInput): unknown {
  if (!hook) return { message: `hello ${name}` };
  const context: Record<string, unknown> = {};
  for (const field of HOOK_CATALOGUE[hook].context) context[field.name] = sampleValue(field);
  return { hook, hookInstance: '8f6b1e9e-3c1e-4a57-9d4e-2b1f0c6d7a11', context };
}

function sampleValue(field: HookContextField): unknown {
  switch (field.kind) {
    case 'id':
      return field.name === 'patientId' ? 'example-patient' : 'example-encounter';
    case 'reference':
      return field.name === 'performer' ? 'Organization/example-lab' : 'Practitioner/example';
    case 'references':
      return ['ServiceRequest/example-order'];
    case 'resources':
      return [{ resourceType: 'Task', id: 'example-task', status: 'requested', intent: 'order' }];
    case 'bundle': {
      const resource =
        field.name === 'appointments'
          ? { resourceType: 'Appointment', id: 'example-appointment', status: 'proposed', participant: [] }
          : {
              resourceType: 'ServiceRequest',
              id: 'example-order',
              status: 'draft',
              intent: 'order',
              code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '93456' }] },
              subject: { reference: 'Patient/example-patient' },
            };
      return { resourceType: 'Bundle', type: 'collection', entry: [{ resource }] };
    }
  }
}
