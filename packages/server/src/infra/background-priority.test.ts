import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hasChrt, SCHED_IDLE, SCHED_OTHER, threadPolicy } from '../testing/thread-policy.js';
import {
  backgroundPriority,
  canLeaveIdle,
  KEEP_RAISED_MS,
  nextPolicy,
  RAISE_AFTER_MS,
  type Policy,
} from './background-priority.js';

describe('nextPolicy', () => {
  it('stays idle while statements are served promptly, and is raised once one has waited too long', () => {
    expect(nextPolicy('idle', 0, 60_000)).toBe('idle');
    expect(nextPolicy('idle', RAISE_AFTER_MS - 1, 0)).toBe('idle');
    expect(nextPolicy('idle', RAISE_AFTER_MS, 0)).toBe('other');
  });

  it('stays raised for a while, and until the statements in flight are fresh again', () => {
    expect(nextPolicy('other', 0, KEEP_RAISED_MS - 1)).toBe('other');
    expect(nextPolicy('other', 30, KEEP_RAISED_MS * 5)).toBe('other');
    expect(nextPolicy('other', 0, KEEP_RAISED_MS)).toBe('idle');
  });
});

describe('canLeaveIdle', () => {
  const limits = (nice: string) => `Limit  Soft Limit  Hard Limit  Units\nMax nice priority         ${nice}  ${nice}\n`;

  it("needs CAP_SYS_NICE or an RLIMIT_NICE of 20 minus the thread's nice value", () => {
    expect(canLeaveIdle(0, 'CapEff:\t0000000000800000\n', limits('0'))).toBe(true);
    expect(canLeaveIdle(0, 'CapEff:\t0000000000000000\n', limits('0'))).toBe(false);
    expect(canLeaveIdle(0, 'CapEff:\t0000000000000000\n', limits('20'))).toBe(true);
    expect(canLeaveIdle(-5, 'CapEff:\t0000000000000000\n', limits('20'))).toBe(false);
    expect(canLeaveIdle(-5, 'CapEff:\t0000000000000000\n', limits('25'))).toBe(true);
    expect(canLeaveIdle(0, 'CapEff:\t0000000000000000\n', limits('unlimited'))).toBe(true);
    expect(canLeaveIdle(0, '', '')).toBe(false);
  });
});

describe('backgroundPriority', () => {
  const recording = (calls: Policy[], closed: { value: boolean }) => ({
    allowed: () => true,
    setter: () => ({
      set: async (tid: number, policy: Policy) => {
        expect(tid).toBe(4242);
        calls.push(policy);
      },
      close: () => (closed.value = true),
    }),
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('raises a starved thread and lowers it again once it has caught up', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const calls: Policy[] = [];
    const closed = { value: false };
    let wait = 0;
    let looked = 0;
    const priority = await backgroundPriority(4242, () => (looked++, wait), recording(calls, closed));
    expect(calls).toEqual(['idle']);
    await vi.advanceTimersByTimeAsync(500);
    expect(priority?.policy).toBe('idle');
    // Nothing was sent, so nothing was watched.
    expect(looked).toBe(0);

    wait = RAISE_AFTER_MS + 5;
    priority?.watch();
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toEqual(['idle', 'other']);
    expect(priority?.policy).toBe('other');

    wait = 0;
    await vi.advanceTimersByTimeAsync(KEEP_RAISED_MS / 2);
    expect(priority?.policy).toBe('other');
    await vi.advanceTimersByTimeAsync(KEEP_RAISED_MS);
    expect(calls).toEqual(['idle', 'other', 'idle']);
    // Idle again with nothing in flight: the watch ends.
    await vi.advanceTimersByTimeAsync(100);
    const seen = looked;
    await vi.advanceTimersByTimeAsync(500);
    expect(looked).toBe(seen);
    await priority?.stop();
    expect(calls).toEqual(['idle', 'other', 'idle', 'other']);
    expect(closed.value).toBe(true);
  });

  it('does not touch a thread that is gone when stopped for that reason, and stops once', async () => {
    const calls: Policy[] = [];
    const closed = { value: false };
    const priority = await backgroundPriority(4242, () => 0, recording(calls, closed));
    await Promise.all([priority?.stop(false), priority?.stop()]);
    expect(calls).toEqual(['idle']);
    expect(closed.value).toBe(true);
  });

  it('does nothing where the thread could not be returned to normal priority', async () => {
    const calls: Policy[] = [];
    const priority = await backgroundPriority(4242, () => 0, {
      ...recording(calls, { value: false }),
      allowed: () => false,
    });
    expect(priority).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('leaves the thread alone when its policy cannot be set', async () => {
    let closed = false;
    const priority = await backgroundPriority(4242, () => 0, {
      allowed: () => true,
      setter: () => ({ set: () => Promise.reject(new Error('chrt: not found')), close: () => (closed = true) }),
    });
    expect(priority).toBeUndefined();
    expect(closed).toBe(true);
  });

  it.runIf(process.platform === 'linux' && canLeaveIdle() && hasChrt())(
    'moves a real thread with chrt, there and back',
    async () => {
      const worker = new Worker(
        `const { parentPort } = require('node:worker_threads');
       parentPort.postMessage(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()));
       setInterval(() => {}, 1000);`,
        { eval: true },
      );
      try {
        const tid = await new Promise<number>((resolve) => worker.once('message', resolve));
        let wait = 0;
        const priority = await backgroundPriority(tid, () => wait);
        expect(priority?.policy).toBe('idle');
        expect(threadPolicy(tid)).toBe(SCHED_IDLE);
        wait = RAISE_AFTER_MS;
        priority?.watch();
        await vi.waitFor(() => expect(priority?.policy).toBe('other'), { timeout: 2000 });
        expect(threadPolicy(tid)).toBe(SCHED_OTHER);
        wait = 0;
        await vi.waitFor(() => expect(priority?.policy).toBe('idle'), { timeout: 3000 });
        expect(threadPolicy(tid)).toBe(SCHED_IDLE);
        await priority?.stop();
        expect(threadPolicy(tid)).toBe(SCHED_OTHER);
      } finally {
        await worker.terminate();
      }
    },
  );
});
