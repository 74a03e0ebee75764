import { afterAll, describe, expect, it } from 'vitest';
import { ProcessBotRuntime, type RunResult } from './index.js';
import { bot, HostError, memoryHost, sleep } from './testing/helpers.js';

const catastrophic: string[] = [];
const rt = new ProcessBotRuntime({
  defaultLimits: { timeoutMs: 2000, memoryMb: 32 },
  onCatastrophicError: (m) => void catastrophic.push(m),
});
afterAll(() => rt.close());
const { host } = memoryHost({ 'Patient/p1': { resourceType: 'Patient', id: 'p1', tenant: 'a' } });

function ok(r: RunResult): unknown {
  if (!r.ok) throw new Error(`expected ok, got ${r.kind}: ${r.message}`);
  return r.result;
}

describe('ProcessBotRuntime', () => {
  it('runs a bot in the worker process and relays client calls and errors', async () => {
    const code = bot(`exports.handler = async (medplum, event) => {
      const p = await medplum.readResource('Patient', 'p1');
      let err; try { await medplum.readResource('Patient', 'x'); } catch (e) { err = [e.message, e.status, e.code]; }
      const none = await medplum.searchOne('Claim', {});
      console.log('in child');
      return { id: p.id, err, none: none === undefined, pid: typeof process, n: event.n };
    };`);
    const r = await rt.run({ code, event: { n: 1 }, host });
    expect(ok(r)).toEqual({
      id: 'p1',
      err: ['Not found: Patient/x', 404, 'not-found'],
      none: true,
      pid: 'undefined',
      n: 1,
    });
    expect(r.logs.map((l) => l.message)).toEqual(['in child']);
    expect(rt.stats().pid).not.toBe(process.pid);
  });

  it('checks code without running it', async () => {
    expect(await rt.check('exports.handler = () => {\n  let = ;\n};')).toMatchObject({ ok: false, line: 2 });
    expect(await rt.check('exports.handler = () => 1;')).toEqual({ ok: true });
  });

  it('answers crashed when the worker dies mid-call and restarts it for the next call', async () => {
    const before = rt.stats().restarts;
    const slow = rt.run({
      code: bot(`exports.handler = async (m) => m.readResource('Patient', 'p1');`),
      event: {},
      host: async () => {
        await sleep(300);
        throw new HostError(500, 'too late');
      },
    });
    await sleep(100);
    process.kill(rt.stats().pid as number, 'SIGKILL');
    const r = await slow;
    expect(r.ok === false && r.kind).toBe('crashed');
    expect(ok(await rt.run({ code: bot('exports.handler = async () => "back";'), event: {}, host }))).toBe('back');
    expect(rt.stats().restarts).toBe(before + 1);
  });

  it('replaces the worker after a catastrophic isolate error', async () => {
    const pid = rt.stats().pid;
    const bomb = bot('exports.handler = async () => { const m = new Map(); for (let i = 0; ; i++) m.set(i, i); };');
    const r = await rt.run({ code: bomb, event: {}, host });
    expect(r.ok).toBe(false);
    expect(ok(await rt.run({ code: bot('exports.handler = async () => "fresh";'), event: {}, host }))).toBe('fresh');
    if (catastrophic.length > 0) expect(rt.stats().pid).not.toBe(pid);
  });
});
