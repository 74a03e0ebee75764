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

  it('reads a budget without spending it, and 0 once its window has passed', async () => {
    const budget = new MemorySharedState().budget('failures', 1_000, 60);
    expect(await budget.used('c')).toBe(0);
    await budget.add('c');
    expect(await budget.add('c')).toBe(2);
    expect(await budget.used('c')).toBe(2);
    expect(await budget.used('c')).toBe(2);
    vi.advanceTimersByTime(60_001);
    expect(await budget.used('c')).toBe(0);
  });

  it('shares one budget between callers naming it', async () => {
    const state = new MemorySharedState();
    await state.budget('b', 10, 60).add('k');
    expect(await state.budget('b', 10, 60).used('k')).toBe(1);
  });

  it('accepts a marker once while it lives, and again once it has expired', async () => {
    const state = new MemorySharedState();
    expect(await state.setOnce('jti:a', 60)).toBe(true);
    expect(await state.setOnce('jti:a', 60)).toBe(false);
    vi.advanceTimersByTime(60_001);
    expect(await state.setOnce('jti:a', 60)).toBe(true);
  });

  it('tells whether a marker lives, without setting one', async () => {
    const state = new MemorySharedState();
    expect(await state.exists('revoked:a')).toBe(false);
    expect(await state.setOnce('revoked:a', 60)).toBe(true);
    expect(await state.exists('revoked:a')).toBe(true);
    vi.advanceTimersByTime(60_001);
    expect(await state.exists('revoked:a')).toBe(false);
  });

  it('drops expired markers at the first call after the second they end in, however few', async () => {
    const state = new MemorySharedState();
    expect(await fillThenWrite(state, 'old', 3, 1, 2000)).toBe(1);
    // 1.5 s markers, 1.2 s later: alive, and left alone by the sweep of the second that has passed.
    expect(await fillThenWrite(state, 'young', 3, 1.5, 1200)).toBe(5);
    vi.advanceTimersByTime(800);
    await state.setOnce('later', 60);
    expect(state.size).toBe(3);
  });

  it('never drops a live marker', async () => {
    const state = new MemorySharedState();
    expect(await fillThenWrite(state, 'live', 10_001, 900, 5000)).toBe(10_002);
    expect(await state.setOnce('live7', 900)).toBe(false);
  });

  it('keeps a marker set again after it expired, when the second the old one ended in is swept', async () => {
    const state = new MemorySharedState();
    await state.setOnce('jti:a', 0.5);
    vi.advanceTimersByTime(600);
    // Expired, so accepted again: the new marker lives 60 s although 'jti:a' is still listed under the old second.
    expect(await state.setOnce('jti:a', 60)).toBe(true);
    vi.advanceTimersByTime(1000);
    await state.setOnce('other', 60);
    expect(await state.setOnce('jti:a', 60)).toBe(false);
  });

  it('sweeps what expired during a long idle spell', async () => {
    const state = new MemorySharedState();
    for (let i = 0; i < 5; i++) await state.setOnce(`jti:${i}`, 60 * (i + 1));
    vi.advanceTimersByTime(24 * 3600_000);
    await state.setOnce('morning', 60);
    expect(state.size).toBe(1);
  });

  it('refuses a budget spent within its window with the seconds left, and starts afresh after it', async () => {
    const state = new MemorySharedState();
    const budget = state.budget('client', 3, 60);
    for (let i = 0; i < 3; i++) expect(await budget.spend('a')).toBeUndefined();
    vi.advanceTimersByTime(20_000);
    expect(await budget.spend('a')).toBe(40);
    expect(await budget.spend('b')).toBeUndefined();
    vi.advanceTimersByTime(40_001);
    expect(await budget.spend('a')).toBeUndefined();
  });
});
