/** One invocation in flight, as the host sees it, and the bridge that answers its client calls. */
import type ivm from 'isolated-vm';
import sjson from 'secure-json-parse';
import { encodeHostError, encodeHostValue, type LogTail } from './output.js';
import type { HostCall } from './types.js';

export const CLIENT_METHODS: ReadonlySet<string> = new Set([
  'readResource',
  'readReference',
  'searchResources',
  'searchOne',
  'createResource',
  'updateResource',
  'deleteResource',
  'executeBot',
]);

/** Largest argument list a bot may send to one client call. */
const MAX_ARGS_LENGTH = 4 * 1024 * 1024;

export type Settled = { value: unknown } | { error: unknown } | { wallClock: true };

export interface ActiveCall {
  readonly callId: string;
  readonly host: HostCall;
  readonly clients: ReadonlySet<string>;
  readonly logs: LogTail;
  readonly deadline: number;
  readonly maxHostCalls: number;
  hostCalls: number;
  active: boolean;
  /** The context's `hookbot` dispatcher, set once the context is booted; replies go through it. */
  hb?: ivm.Reference;
  settle(outcome: Settled): void;
}

export const remaining = (deadline: number): number => Math.max(1, Math.ceil(deadline - performance.now()));

/**
 * Runs a bot's client call on the host and resolves with the tagged answer. Never rejects: a host promise that
 * rejects behind isolated-vm crashes the process (isolated-vm issue #314), so errors become `E…` answers.
 */
export async function answer(call: ActiveCall, client: string, method: string, argsJson: string): Promise<string> {
  try {
    if (!call.clients.has(client) || !CLIENT_METHODS.has(method)) throw new Error('Unknown client method');
    if (++call.hostCalls > call.maxHostCalls) throw new Error('Too many client calls in one invocation');
    if (argsJson.length > MAX_ARGS_LENGTH) throw new Error('Client call arguments are too large');
    const args: unknown = sjson.parse(argsJson, null, { protoAction: 'error', constructorAction: 'error' });
    if (!Array.isArray(args)) throw new Error('Invalid client call arguments');
    return encodeHostValue(await call.host(client, method, args));
  } catch (err) {
    return encodeHostError(err);
  }
}

/** Hands an answer back to the bot; the continuation it resumes runs under the call's remaining time. */
export function deliver(call: ActiveCall, reqId: number, tagged: string): void {
  const hb = call.hb;
  if (!call.active || hb === undefined) return;
  try {
    hb.apply(undefined, ['reply', reqId, tagged], { timeout: remaining(call.deadline) }).then(
      () => undefined,
      (error: unknown) => call.settle({ error }),
    );
  } catch (error) {
    // released or disposed under us: the invocation is over either way
    call.settle({ error });
  }
}
