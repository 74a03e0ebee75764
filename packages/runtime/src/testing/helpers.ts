/** Test helpers: bot code factories and an in-memory host (not part of the published package). */
import type { BotCode, HostCall } from '../types.js';

let counter = 0;

/** A bot with a fresh id so tests never share isolates by accident. */
export function bot(code: string, extra: Partial<BotCode> = {}): BotCode {
  counter++;
  return { botId: `bot-${counter}-${Date.now()}`, version: '1', code, ...extra };
}

/** A HookbotError-like error, as the server's bridge would throw. */
export class HostError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues = [{ code: status === 404 ? 'not-found' : 'forbidden' }],
  ) {
    super(message);
  }
}

export interface MemoryHost {
  host: HostCall;
  calls: { client: string; method: string; args: unknown[] }[];
}

/** Resources by `Type/id`, one store per tenant; each client name is bound to one tenant. */
export function memoryHost(
  resources: Record<string, Record<string, unknown>> = {},
  tenantOfClient: Record<string, string> = { medplum: 'a', payer: 'a' },
): MemoryHost {
  const calls: MemoryHost['calls'] = [];
  const host: HostCall = async (client, method, args) => {
    calls.push({ client, method, args });
    const tenant = tenantOfClient[client] ?? 'none';
    const own = (key: string): Record<string, unknown> => {
      const r = resources[key];
      if (!r) throw new HostError(404, `Not found: ${key}`);
      if (r['tenant'] !== tenant) throw new HostError(403, 'Forbidden');
      return r;
    };
    switch (method) {
      case 'readResource':
        return own(`${String(args[0])}/${String(args[1])}`);
      case 'readReference':
        return own(String((args[0] as { reference?: unknown })?.reference));
      case 'searchResources':
        return Object.values(resources).filter((r) => r['resourceType'] === args[0] && r['tenant'] === tenant);
      case 'searchOne':
        return Object.values(resources).find((r) => r['resourceType'] === args[0] && r['tenant'] === tenant);
      case 'createResource':
        return { ...(args[0] as object), id: 'new-1' };
      default:
        throw new HostError(400, `Unsupported: ${method}`);
    }
  };
  return { host, calls };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
