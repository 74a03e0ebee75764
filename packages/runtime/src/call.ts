/** One invocation in flight, as the host sees it, and the bridge that answers its client calls. */
import type ivm from 'isolated-vm';
import sjson from 'secure-json-parse';
import { encodeHostError, encodeHostValue, type LogTail } from './output.js';
import type { HostSlots } from './owner-gate.js';
import { MAX_ARGS_LENGTH, MAX_ARGS_TOTAL } from './prelude.js';
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

export type Settled = { value: unknown } | { error: unknown } | { wallClock: true };

export interface ActiveCall {
  readonly callId: string;
  readonly host: HostCall;
  readonly clients: ReadonlySet<string>;
  readonly logs: LogTail;
  readonly deadline: number;
  readonly maxHostCalls: number;
  hostCalls: number;
  /** The invocation's client calls the host works on at once (`maxHostCallsInFlight`); the others wait in it. */
  readonly runSlots: HostSlots;
  /** The same across all the invocations of its owner, if it has one. */
  readonly ownerSlots?: HostSlots;
  /** Argument characters accepted so far (see MAX_ARGS_TOTAL). */
  argsSent: number;
  /** False once the invocation has ended: its client calls are refused and nothing is delivered to it. */
  active: boolean;
  /** The context's `hookbot` dispatcher, set once the context is booted; replies go through it. */
  hb?: ivm.Reference;
  settle(outcome: Settled): void;
}

/** Ends the invocation's client calls: the waiting ones are dropped unrun; the host's answers to the others too. */
export function endHostCalls(call: ActiveCall): void {
  call.active = false;
  call.runSlots.drop(call);
  call.ownerSlots?.drop(call);
}

export const remaining = (deadline: number): number => Math.max(1, Math.ceil(deadline - performance.now()));

/**
 * Runs a bot's client call on the host and resolves with the tagged answer, or with `undefined` when the call is
 * refused unanswered because its invocation has ended (before the host ran it, or while it ran). The prelude's
 * limits are checked again here, before the arguments are parsed, so code that got around the prelude gains
 * nothing. Never rejects: a host promise that rejects behind isolated-vm crashes
 * the process (isolated-vm issue #314), so errors become `E…` answers.
 */
export async function answer(
  call: ActiveCall,
  client: string,
  method: string,
  argsJson: string,
): Promise<string | undefined> {
  if (!call.active) return undefined;
  let tagged: string;
  try {
    if (!call.clients.has(client) || !CLIENT_METHODS.has(method)) throw new Error('Unknown client method');
    if (++call.hostCalls > call.maxHostCalls) throw new Error('Too many client calls in one invocation');
    if (argsJson.length > MAX_ARGS_LENGTH) throw new Error('Client call arguments are too large');
    if (call.argsSent + argsJson.length > MAX_ARGS_TOTAL) {
      call.argsSent = MAX_ARGS_TOTAL + 1;
      throw new Error('Too much data sent to clients in one invocation');
    }
    call.argsSent += argsJson.length;
    const args: unknown = sjson.parse(argsJson, null, { protoAction: 'error', constructorAction: 'error' });
    if (!Array.isArray(args)) throw new Error('Invalid client call arguments');
    // A bot firing many calls at once gets a few worked on at a time: the rest wait here, not in the host's
    // database or network queues, where nothing could take them back once the bot is gone.
    if (!(await call.runSlots.take(call))) return undefined;
    const owned = call.ownerSlots ? await call.ownerSlots.take(call) : true;
    try {
      if (!owned || !call.active) return undefined;
      tagged = encodeHostValue(await call.host(client, method, args));
    } finally {
      if (owned) call.ownerSlots?.give();
      call.runSlots.give();
    }
  } catch (err) {
    tagged = encodeHostError(err);
  }
  return call.active ? tagged : undefined;
}

/**
 * Hands an answer back to the bot through this call's own dispatcher; the continuation it resumes runs under the
 * call's remaining time. Does nothing once the call has ended.
 */
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
