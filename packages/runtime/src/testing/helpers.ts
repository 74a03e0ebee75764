/** Test helpers: bot code factories and an in-memory host (not part of the published package). */
import { afterAll, beforeAll } from 'vitest';
import type { BotRuntime } from '../runtime.js';
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

export interface HostWatch {
  /** Host-process `unhandledRejection` reasons seen while the suite ran. */
  unhandled: unknown[];
  /** RSS after one warm-up run, before the suite. */
  rssBefore(): number;
}

/**
 * The attack suites' frame: records host unhandled rejections, warms the runtime up once, notes the RSS baseline,
 * and closes the runtime afterwards.
 */
export function watchHost(rt: BotRuntime, host: HostCall): HostWatch {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  let rss = 0;
  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    await rt.run({ code: bot('exports.handler = async () => 1;'), event: {}, host });
    rss = process.memoryUsage().rss;
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await rt.close();
  });
  return { unhandled, rssBefore: () => rss };
}
