/**
 * `hookbot hooks invoke ID|HOOK|TITLE --request FILE`: discovery first, then `POST /cds-services/{id}` by the
 * service's id (CDS Hooks addresses services by id; the hook name is not a route). A hook name or title that
 * several services share is refused with their ids. A missing `hookInstance` is generated, as an EHR would. The answer
 * is checked again locally, so the author sees the warnings the server does not refuse (cards a major EHR would not
 * render).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { validateCdsResponse, type CdsResponse } from '@hookbot/bots';
import { renderCdsResponse } from '../cards.js';
import type { CommandContext } from '../context.js';
import { usageError } from '../errors.js';
import { readInput } from './bot-execute.js';
import { HooksClient, type CdsServiceEntry, type HooksAuthOptions } from './hooks-client.js';

export interface HooksInvokeOptions extends HooksAuthOptions {
  target: string;
  request: string;
}

export async function hooksInvoke(input: CommandContext & HooksInvokeOptions): Promise<void> {
  const { out } = input;
  const loaded = await readInput(path.resolve(input.cwd, input.request));
  if (!('json' in loaded) || typeof loaded.json !== 'object' || loaded.json === null || Array.isArray(loaded.json)) {
    throw usageError(`${input.request} must hold a JSON object (a CDS Hooks request)`);
  }
  const client = await HooksClient.open(input);
  const services = await out.step('Discovering services', () => client.discover());
  const service = pickService(services, input.target);
  const request = { ...(loaded.json as Record<string, unknown>) };
  request.hook ??= service.hook;
  request.hookInstance ??= randomUUID();
  const { body } = await out.step(`Calling ${service.id} (${service.hook})`, () =>
    client.call<CdsResponse>('POST', `/cds-services/${encodeURIComponent(service.id)}`, { json: request }),
  );
  out.result(body, () => renderCdsResponse(body, out.style));
  for (const w of validateCdsResponse(body, { hook: service.hook }).warnings) {
    out.note(out.style.yellow(`warning: ${w.path}: ${w.message}`));
  }
}

/** By id; else the one service that answers a hook of that name; else the one service with that title. */
export function pickService(services: CdsServiceEntry[], target: string): CdsServiceEntry {
  const byId = services.find((s) => s.id === target);
  if (byId) return byId;
  const byHook = services.filter((s) => s.hook.toLowerCase() === target.toLowerCase());
  const byTitle = services.filter((s) => s.title === target);
  for (const [matches, what] of [
    [byHook, 'answer'],
    [byTitle, 'are titled'],
  ] as const) {
    if (matches.length === 1 && matches[0]) return matches[0];
    if (matches.length > 1) {
      throw usageError(`${matches.length} services ${what} ${target}; name one by id`, [
        ...matches.map((s) => `  ${s.id}  ${s.hook}  ${s.title ?? s.description ?? ''}`),
      ]);
    }
  }
  throw usageError(`No CDS service with id, hook or title "${target}"`, [
    services.length
      ? `Available: ${services.map((s) => `${s.id} (${s.hook}${s.title ? `, ${s.title}` : ''})`).join(', ')}`
      : 'The server lists no services (hookbot hooks discover).',
  ]);
}
