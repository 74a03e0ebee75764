/** The limits of a bot call: built-in defaults, a runtime's defaults over them, a call's own over those. */
import type { RunLimits, RuntimeOptions } from './types.js';

export type Limits = Required<RunLimits>;

const DEFAULT_LIMITS: Limits = {
  memoryMb: 128,
  timeoutMs: 10_000,
  maxOutputBytes: 1024 * 1024,
  maxLogBytes: 10 * 1024,
  maxHostCalls: 1000,
  maxHostCallsInFlight: 8,
};
const MAX_TIMEOUT_MS = 10 * 60 * 1000;

/** The server maximum for a bot's memory: `RuntimeOptions.maxMemoryMb`, 512 MB by default, at least 8. */
export function maxMemoryMbOf(options: Pick<RuntimeOptions, 'maxMemoryMb'>): number {
  return Math.max(8, options.maxMemoryMb ?? 512);
}

/** A call's limits: its own over the runtime's defaults over the built-in ones, each clamped to what is allowed. */
export function effectiveLimits(defaults: RunLimits | undefined, maxMemoryMb: number, limits?: RunLimits): Limits {
  const l = { ...DEFAULT_LIMITS, ...definedOnly(defaults), ...definedOnly(limits) };
  const int = (n: number, min: number, max: number): number => Math.min(max, Math.max(min, Math.floor(n) || min));
  return {
    memoryMb: int(l.memoryMb, 8, maxMemoryMb),
    timeoutMs: int(l.timeoutMs, 1, MAX_TIMEOUT_MS),
    maxOutputBytes: int(l.maxOutputBytes, 2, 64 * 1024 * 1024),
    maxLogBytes: int(l.maxLogBytes, 0, 1024 * 1024),
    maxHostCalls: int(l.maxHostCalls, 0, 1_000_000),
    maxHostCallsInFlight: int(l.maxHostCallsInFlight, 1, 1024),
  };
}

function definedOnly(limits: RunLimits | undefined): RunLimits {
  const out: RunLimits = {};
  if (!limits) return out;
  for (const [k, v] of Object.entries(limits)) if (typeof v === 'number') (out as Record<string, number>)[k] = v;
  return out;
}
