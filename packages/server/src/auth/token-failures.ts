/**
 * Slows down guessing at the token endpoint: failed client authentications are counted per client id and per
 * address (shared by every instance, for a window from the first failure), and once either has failed more than a
 * few times, every further failing attempt for it waits before its answer, twice as long per failure up to a
 * ceiling. Only failures wait: anyone who knows a client id could otherwise lock its owner out, or slow every one of
 * its token requests down to the ceiling.
 */
import { createHash } from 'node:crypto';
import type { SharedState } from '../infra/shared-state.js';

const WINDOW_SECONDS = 15 * 60;
/** Failures allowed without delay: a mistyped secret or a key rotation should not be slowed. */
const FREE_FAILURES = { client: 5, address: 20 } as const;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;

export type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FailureKeys {
  /** A client id; or what a member's guesses are counted by (`member:…` for an email, `member-id:…`). */
  clientId: string;
  /** The caller's address; absent when unknown. */
  address?: string;
}

/** Client ids are whatever callers send: hashed, they make keys of bounded size. */
const digest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

/** A count, never a refusal: the budget's points are never reached. */
const failures = (shared: SharedState) => shared.budget('token-failures', Number.MAX_SAFE_INTEGER, WINDOW_SECONDS);

function keysOf(who: FailureKeys): { key: string; free: number }[] {
  return [
    { key: `client:${digest(who.clientId)}`, free: FREE_FAILURES.client },
    ...(who.address ? [{ key: `address:${digest(who.address)}`, free: FREE_FAILURES.address }] : []),
  ];
}

/** The wait before checking an attempt, after `failures` failures of which `free` cost nothing. */
function failureDelayMs(failures: number, free: number): number {
  if (failures < free) return 0;
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(failures - free, 16));
}

/**
 * After a failed attempt: waits as long as the recent failures of this client id and this address demand, then
 * counts this failure for both.
 */
export async function delayFailure(shared: SharedState, who: FailureKeys, sleep: Sleep = realSleep): Promise<void> {
  const budget = failures(shared);
  const keys = keysOf(who);
  const delays = await Promise.all(keys.map(async ({ key, free }) => failureDelayMs(await budget.used(key), free)));
  const delay = Math.max(0, ...delays);
  if (delay > 0) await sleep(delay);
  await Promise.all(keys.map(({ key }) => budget.add(key)));
}

/** Has `who` failed at least `limit.client` times, or its address `limit.address` times, within the window? */
export async function failedTooOften(
  shared: SharedState,
  who: FailureKeys,
  limit: { client: number; address: number },
): Promise<boolean> {
  const budget = failures(shared);
  const [client, address] = await Promise.all(keysOf(who).map(({ key }) => budget.used(key)));
  return (client ?? 0) >= limit.client || (address ?? 0) >= limit.address;
}
