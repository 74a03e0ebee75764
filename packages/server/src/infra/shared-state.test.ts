import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemorySharedState } from './shared-state.js';

describe('MemorySharedState', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2026, 10, 23, 4, 0, 0));
  });
  afterEach(() => vi.useRealTimers());

  /** Sets `count` markers of `ttlSeconds`, lets `laterMs` pass, sets one more (which may sweep); the size after. */
  const fillThenWrite = async (
    state: MemorySharedState,
    prefix: string,
    count: number,
    ttlSeconds: number,
    laterMs: number,
  ) => {
    for (let i = 0; i < count; i++) await state.setOnce(`${prefix}${i}`, ttlSeconds);
    vi.advanceTimersByTime(laterMs);
    await state.setOnce(`after-${prefix}`, 60);
    return state.size;
  };

  it('accepts a marker once while it lives, and again once it has expired', async () => {
    const state = new MemorySharedState();
    expect(await state.setOnce('jti:a', 60)).toBe(true);
    expect(await state.setOnce('jti:a', 60)).toBe(false);
    vi.advanceTimersByTime(60_001);
    expect(await state.setOnce('jti:a', 60)).toBe(true);
  });

  it('sweeps expired markers once there are many, at most once a second', async () => {
    const state = new MemorySharedState();
    expect(await fillThenWrite(state, 'old', 10_000, 1, 2000)).toBe(1);
    // Expired, but the last sweep was under a second ago: they stay until the next one.
    expect(await fillThenWrite(state, 'short', 10_000, 0.5, 600)).toBe(10_002);
    vi.advanceTimersByTime(500);
    await state.setOnce('new-3', 60);
    expect(state.size).toBe(3);
  });

  it('never sweeps a live marker', async () => {
    const state = new MemorySharedState();
    expect(await fillThenWrite(state, 'live', 10_001, 900, 5000)).toBe(10_002);
    expect(await state.setOnce('live7', 900)).toBe(false);
  });

  it('drops a swept counter with its window, so the next window starts at 1', async () => {
    const state = new MemorySharedState();
    for (let i = 0; i < 3; i++) await state.increment('rate:client', 1);
    expect(await fillThenWrite(state, 'old', 10_000, 1, 2000)).toBe(1);
    expect(await state.increment('rate:client', 1)).toBe(1);
  });
});
