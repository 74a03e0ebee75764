/**
 * Attack suite, part 2: CPU, memory, timers, log floods and the host bridge. Part 1 is attacks.test.ts.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BotRuntime, type HostCall, type RunResult } from './index.js';
import type ivm from 'isolated-vm';
import { answer, deliver, type ActiveCall } from './call.js';
import { LogTail } from './output.js';
import { HostSlots } from './owner-gate.js';
import { bot, HostError, memoryHost, sleep, watchHost } from './testing/helpers.js';

const MAP_BOMB = fileURLToPath(new URL('./testing/map-bomb.ts', import.meta.url));

const rt = new BotRuntime({ defaultLimits: { timeoutMs: 1000, memoryMb: 32 } });
const resources = {
  'Patient/a1': { resourceType: 'Patient', id: 'a1', tenant: 'a' },
  'Patient/b1': { resourceType: 'Patient', id: 'b1', tenant: 'b', secret: 'tenant b data' },
};
const { host, calls } = memoryHost(resources);
const { unhandled, rssBefore } = watchHost(rt, host);

async function failure(code: string, h: HostCall = host): Promise<Extract<RunResult, { ok: false }>> {
  const r = await rt.run({ code: bot(code), event: {}, host: h });
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.result)}`);
  return r;
}

async function result(code: string, h: HostCall = host, event: unknown = {}): Promise<unknown> {
  const r = await rt.run({ code: bot(code), event, host: h });
  if (!r.ok) throw new Error(`expected ok, got ${r.kind}: ${r.message}`);
  return r.result;
}

describe('CPU and wall clock', () => {
  it('41 an infinite synchronous loop', async () => {
    expect((await failure('exports.handler = async () => { for (;;) {} };')).kind).toBe('timeout');
  });

  it('42 an infinite loop in the top level', async () => {
    expect((await failure('for (;;) {}\nexports.handler = async () => 1;')).kind).toBe('timeout');
  });

  it('43 an infinite async loop', async () => {
    expect((await failure('exports.handler = async () => { for (;;) await null; };')).kind).toBe('timeout');
  });

  it('44 a microtask flood', async () => {
    const r = await failure('exports.handler = () => { const f = () => Promise.resolve().then(f); return f(); };');
    expect(['timeout', 'memory']).toContain(r.kind);
  });

  it('45 a never-settling promise disposes the isolate', async () => {
    const before = rt.stats().disposed.timeout;
    expect((await failure('exports.handler = () => new Promise(() => {});')).kind).toBe('timeout');
    expect(rt.stats().disposed.timeout).toBe(before + 1);
  });

  it('46 a CPU loop after awaiting a client call', async () => {
    const r = await failure(`exports.handler = async (m) => { await m.readResource('Patient', 'a1'); for (;;) {} };`);
    expect(r.kind).toBe('timeout');
  });

  it('47 an endless loop of client calls', async () => {
    const before = calls.length;
    const r = await failure(
      `exports.handler = async (m) => { for (;;) { try { await m.readResource('Patient', 'a1'); } catch {} } };`,
    );
    expect(r.kind).toBe('timeout');
    expect(calls.length - before).toBeLessThanOrEqual(1000);
  });

  it('48 regular-expression backtracking (ReDoS)', async () => {
    const r = await failure(`exports.handler = async () => /^(a+)+$/.test('a'.repeat(40) + '!');`);
    expect(r.kind).toBe('timeout');
  });

  it('49 Atomics.wait is unavailable', async () => {
    const r = await failure(
      'exports.handler = async () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);',
    );
    expect(r.kind).toBe('thrown');
  });

  it('50 deep recursion', async () => {
    const r = await failure('exports.handler = async () => { const f = (n) => f(n + 1) + 1; return f(0); };');
    expect(r.kind).toBe('thrown');
    expect(r.message).toMatch(/Maximum call stack size exceeded/);
  });
});

describe('memory', () => {
  it('51 an array bomb is stopped and does not affect another bot', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const other = rt.run({
      code: bot(`exports.handler = async (m) => 'other ' + (await m.readResource('Patient', 'a1')).id;`),
      event: {},
      host: async (...args) => {
        await gate;
        return host(...args);
      },
    });
    const bomb = bot('exports.handler = async () => { const a = []; for (;;) a.push(new Array(1e5).fill(1)); };');
    const r = await rt.run({ code: bomb, event: {}, host });
    release();
    expect(r.ok === false && r.kind).toBe('memory');
    expect((await other).ok && (await other).ok).toBe(true);
    const again = await rt.run({
      code: { ...bomb, code: 'exports.handler = async () => "recovered";' },
      event: {},
      host,
    });
    expect(again.ok && again.result).toBe('recovered');
  });

  it('52 a string bomb', async () => {
    const r = await failure(`exports.handler = async () => { let s = 'x'; for (;;) s += s; };`);
    expect(['thrown', 'memory']).toContain(r.kind);
  });

  it('53 a Map bomb is contained, and the catastrophic error it causes is reported', async () => {
    // Growing a hash table (Map, Set, WeakMap, dictionary object) past the heap limit is a fatal V8 OOM inside
    // isolated-vm 5.0.4 ("Catastrophic out-of-memory error"): the watchdog answers, the host keeps serving, and the
    // runtime reports itself unhealthy so the embedder can drain and restart. Run in a child process of its own,
    // whose stderr takes V8's out-of-memory report (it would otherwise read like a crash in the suite's output).
    const child = spawn(
      process.execPath,
      ['--no-node-snapshot', '--conditions=hookbot-source', '--import', 'tsx', MAP_BOMB],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = once(child, 'close');
    for (let waited = 0; !stdout.includes('\n'); waited += 50) {
      if (child.exitCode !== null || waited > 25_000) throw new Error(`the bomb's process said nothing:\n${stderr}`);
      await sleep(50);
    }
    child.kill('SIGKILL');
    await closed;
    const outcome = JSON.parse(stdout) as { kind: string; healthy: boolean; catastrophic: number; after: unknown };
    expect(['memory', 'timeout']).toContain(outcome.kind);
    expect(outcome.healthy).toBe(outcome.catastrophic === 0);
    expect(outcome.after).toBe('still serving');
    if (outcome.catastrophic > 0) expect(stderr).toMatch(/Last few GCs|out of memory/i);
    expect(await result('exports.handler = async () => "still serving";')).toBe('still serving');
  });

  it('54 an ArrayBuffer bomb', async () => {
    const r = await failure(
      'exports.handler = async () => { const a = []; for (;;) a.push(new ArrayBuffer(16 * 1024 * 1024)); };',
    );
    expect(['thrown', 'memory']).toContain(r.kind);
  });

  it('55 a WebAssembly memory bomb cannot start', async () => {
    const r = await failure(
      'exports.handler = async () => new WebAssembly.Memory({ initial: 65536 }).buffer.byteLength;',
    );
    expect(r.kind).toBe('thrown');
    expect(r.message).toMatch(/WebAssembly is not defined/);
  });

  // The bot throws isolated-vm's own messages from code that runs outside the prelude's catch (an ES module's top
  // level; in fresh contexts, CommonJS text that closes the wrapper early), once a first call is in flight.
  const forgeries: [string, string, (t: number, msg: string) => string, 'sealed' | 'fresh'][] = [
    [
      '56',
      'an ES module',
      (t, msg) => `if (Date.now() > ${t}) throw new Error(${JSON.stringify(msg)});
        export async function handler(m) { return 'first ' + (await m.readResource('Patient', 'a1')).id; }`,
      'sealed',
    ],
    [
      '57',
      'CommonJS text outside the wrapper',
      (t, msg) => `exports.handler = async (m) => 'first ' + (await m.readResource('Patient', 'a1')).id;
        }));
        if (Date.now() > ${t}) throw new Error(${JSON.stringify(msg)});
        ((function () {`,
      'fresh',
    ],
  ];
  for (const [n, what, source, contexts] of forgeries) {
    it(`${n} ${what} cannot pass off its own error as running out of memory or time`, async () => {
      const own = new BotRuntime({ defaultLimits: { timeoutMs: 5000, memoryMb: 32 }, contexts });
      try {
        for (const message of [
          'Isolate was disposed during execution due to memory limit',
          'Script execution timed out.',
        ]) {
          const t = Date.now() + 400;
          const code = bot(source(t, message));
          let release: () => void = () => undefined;
          const gate = new Promise<void>((r) => (release = r));
          const first = own.run({
            code,
            event: {},
            host: async (...args) => {
              await gate;
              return host(...args);
            },
          });
          await sleep(Math.max(0, t - Date.now()) + 50);
          const forged = await own.run({ code, event: {}, host });
          release();
          expect(forged.ok === false && forged.kind).toBe('thrown');
          expect(forged.ok === false && forged.message).toBe(message);
          const r = await first;
          expect(r.ok && r.result).toBe('first a1');
          expect(own.stats().disposed).toMatchObject({ memory: 0, timeout: 0, crashed: 0 });
        }
      } finally {
        await own.close();
      }
    });
  }
});

describe('timers and work that outlives the call', () => {
  it('56 setTimeout and setInterval do not exist', async () => {
    const r = await failure(`exports.handler = async () => { setTimeout(() => {}, 10); return 1; };`);
    expect(r.message).toMatch(/setTimeout is not defined/);
  });

  it('57 a detached chain of client calls stops when the call ends', async () => {
    const before = calls.length;
    const code = bot(`exports.handler = async (m) => {
      (async () => { for (let i = 0; i < 1000; i++) { try { await m.readResource('Patient', 'a1'); } catch {} } })();
      return 'returned';
    };`);
    const r = await rt.run({ code, event: {}, host });
    expect(r.ok && r.result).toBe('returned');
    await sleep(100);
    const after = calls.length;
    await sleep(100);
    expect(calls.length).toBe(after);
    expect(after - before).toBeLessThanOrEqual(2);
    const again = await rt.run({ code, event: {}, host });
    expect(again.ok).toBe(true);
  });

  it('58 a detached microtask loop after returning', async () => {
    const code = bot(`exports.handler = async () => {
      const spin = () => Promise.resolve().then(spin); spin();
      return 'returned';
    };`);
    await rt.run({ code, event: {}, host });
    const next = await rt.run({
      code: { ...code, version: '2', code: 'exports.handler = async () => "next";' },
      event: {},
      host,
    });
    expect(next.ok && next.result).toBe('next');
  });

  it('59 a log flood is cut off and bounded', async () => {
    const code = bot(
      `exports.handler = async () => { for (let i = 0; i < 1e6; i++) console.log('flood ' + i); return 'done'; };`,
    );
    const r = await rt.run({ code, event: {}, host, limits: { maxLogBytes: 2048, timeoutMs: 5000 } });
    expect(r.ok && r.result).toBe('done');
    expect(r.logs.reduce((n, l) => n + l.message.length, 0)).toBeLessThanOrEqual(2048);
    expect(r.logs.at(-1)?.message).toMatch(/truncated/);
  });

  it('60 logging an object whose toJSON loops', async () => {
    const r = await failure(`exports.handler = async () => { console.log({ toJSON() { for (;;) {} } }); };`);
    expect(r.kind).toBe('timeout');
  });
});

describe('the host bridge', () => {
  it('61 executeBot on itself in a loop meets the host depth limit', async () => {
    const code = bot(`exports.handler = async (medplum, event) => {
      try { return await medplum.executeBot('self', { depth: event.depth + 1 }); }
      catch (e) { return 'stopped at ' + event.depth + ': ' + e.message; }
    };`);
    const recursive =
      (depth: number): HostCall =>
      async (_client, method, args) => {
        if (method !== 'executeBot') throw new Error('unexpected');
        if (depth >= 4) throw new HostError(400, 'executeBot depth limit reached');
        const r = await rt.run({ code, event: args[1], host: recursive(depth + 1) });
        if (!r.ok) throw new Error(r.message);
        return r.result;
      };
    const r = await rt.run({ code, event: { depth: 0 }, host: recursive(0) });
    expect(r.ok && r.result).toBe('stopped at 4: executeBot depth limit reached');
  });

  it('62 a host function that throws synchronously', async () => {
    const throwsNow = ((): never => {
      throw new Error('sync boom');
    }) as unknown as HostCall;
    const code = `exports.handler = async (m) => { try { await m.readResource('Patient', 'a1'); } catch (e) { return e.message; } };`;
    expect(await result(code, throwsNow)).toBe('sync boom');
  });

  it('63 a host function that rejects immediately (isolated-vm #314)', async () => {
    const rejectsNow: HostCall = () => Promise.reject(new HostError(403, 'forbidden now'));
    const code = `exports.handler = async (m) => {
      const out = [];
      for (let i = 0; i < 20; i++) { try { await m.readResource('Patient', 'a1'); } catch (e) { out.push(e.status); } }
      return out.length + ':' + out[0];
    };`;
    expect(await result(code, rejectsNow)).toBe('20:403');
    await sleep(20);
    expect(unhandled).toEqual([]);
  });

  it('64 a host function that throws a non-Error value or returns something unserialisable', async () => {
    const weird: HostCall = async (_c, method) => {
      if (method === 'readResource') throw 'a string';
      return { big: 10n };
    };
    const code = `exports.handler = async (m) => {
      const out = [];
      try { await m.readResource('X', '1'); } catch (e) { out.push(e.message); }
      try { await m.searchOne('X', {}); } catch (e) { out.push(e.message); }
      return out;
    };`;
    expect(await result(code, weird)).toEqual([
      'a string',
      'The client returned a value that is not JSON-serialisable',
    ]);
  });

  it("65 one tenant's bot cannot read another tenant's data through its client", async () => {
    const code = `exports.handler = async (medplum, e, clients) => {
      const out = {};
      try { out.read = (await medplum.readResource('Patient', 'b1')).secret; } catch (err) { out.read = err.status + ' ' + err.message; }
      try { out.ref = (await medplum.readReference({ reference: 'Patient/b1' })).secret; } catch (err) { out.ref = err.status; }
      out.search = (await medplum.searchResources('Patient', {})).map((p) => p.id);
      out.otherClient = typeof clients.admin;
      return out;
    };`;
    expect(await result(code)).toEqual({ read: '403 Forbidden', ref: 403, search: ['a1'], otherClient: 'undefined' });
  });

  it('66 too many client calls in one invocation', async () => {
    const before = calls.length;
    const code = `exports.handler = async (m) => {
      const all = await Promise.allSettled(Array.from({ length: 3000 }, () => m.readResource('Patient', 'a1')));
      return all.filter((r) => r.status === 'rejected').length;
    };`;
    expect(await result(code)).toBe(2000);
    expect(calls.length - before).toBe(1000);
  });

  it('67 huge client call arguments are refused in the sandbox', async () => {
    const before = calls.length;
    const code = `exports.handler = async (m) => {
      const big = 'x'.repeat(5 * 1024 * 1024);
      const out = [];
      for (let i = 0; i < 50; i++) { try { await m.createResource({ big }); } catch (e) { out.push(e.message); } }
      return out[0] + ' x' + out.length;
    };`;
    // Stringifying 5 MB fifty times takes ~1 s on a loaded machine: this case is about the refusal, not the clock.
    const r = await rt.run({ code: bot(code), event: {}, host, limits: { timeoutMs: 5000 } });
    expect(r.ok && r.result).toBe('Client call arguments are too large x50');
    expect(calls.length).toBe(before);
  });

  it('68 __proto__ keys in client call arguments never reach the host', async () => {
    const before = calls.length;
    const code = `exports.handler = async (m) => {
      try { await m.createResource(JSON.parse('{"resourceType":"Patient","__proto__":{"admin":true}}')); return 'sent'; }
      catch (e) { return 'refused'; }
    };`;
    expect(await result(code)).toBe('refused');
    expect(calls.length).toBe(before);
  });

  it('69 a client call made after the invocation ended is never answered', async () => {
    let capturedLate = 0;
    const slow: HostCall = async () => {
      capturedLate++;
      await sleep(50);
      return { late: true };
    };
    const code = bot(
      `exports.handler = async (m) => { m.readResource('Patient', 'a1').then(() => { for (;;) {} }); return 'early'; };`,
    );
    const r = await rt.run({ code, event: {}, host: slow });
    expect(r.ok && r.result).toBe('early');
    await sleep(120);
    expect(capturedLate).toBe(1);
    const next = await rt.run({ code, event: {}, host });
    expect(next.ok).toBe(true);
  });
});

describe('the host side of the bridge, as if the prelude were bypassed', () => {
  // These drive the host's entry point for client calls directly, with what code that got around the prelude could
  // send (the raw callback's arguments), and assert the host refuses it on its own.
  interface Fake {
    call: ActiveCall;
    hostCalls: unknown[][];
    applied: unknown[][];
  }

  function fakeCall(options: { maxHostCalls?: number; hb?: Fake['applied']; host?: HostCall } = {}): Fake {
    const hostCalls: unknown[][] = [];
    const applied = options.hb ?? [];
    const hb = {
      apply: (_self: unknown, args: unknown[]) => {
        applied.push(args);
        return Promise.resolve(undefined);
      },
    } as unknown as ivm.Reference;
    const call: ActiveCall = {
      callId: `fake-${Math.random()}`,
      host:
        options.host ??
        (async (_client, _method, args) => {
          hostCalls.push(args);
          return { ok: true };
        }),
      clients: new Set(['medplum']),
      logs: new LogTail(1024),
      deadline: performance.now() + 10_000,
      maxHostCalls: options.maxHostCalls ?? 1000,
      hostCalls: 0,
      runSlots: new HostSlots(8),
      argsSent: 0,
      active: true,
      hb,
      settle: () => undefined,
    };
    return { call, hostCalls, applied };
  }

  const refusal = (tagged: string | undefined): string =>
    tagged?.startsWith('error:')
      ? (JSON.parse(tagged.slice('error:'.length)) as { message: string }).message
      : `answered: ${tagged}`;

  it('70 the per-invocation argument total (16 MB) is enforced by the host', async () => {
    const f = fakeCall();
    const big = JSON.stringify(['Patient', 'x'.repeat(4 * 1024 * 1024 - 100)]);
    const answers = await Promise.all(Array.from({ length: 50 }, () => answer(f.call, 'medplum', 'readResource', big)));
    expect(f.hostCalls.length).toBe(4);
    expect(answers.filter((a) => a?.startsWith('value:')).length).toBe(4);
    expect(new Set(answers.filter((a) => !a?.startsWith('value:')).map(refusal))).toEqual(
      new Set(['Too much data sent to clients in one invocation']),
    );
    // once over the total, small calls are refused too, as in the sandbox
    expect(refusal(await answer(f.call, 'medplum', 'readResource', '["Patient","a1"]'))).toBe(
      'Too much data sent to clients in one invocation',
    );
    expect(f.hostCalls.length).toBe(4);
  });

  it('71 oversized arguments are refused before they are parsed; the call count limit holds', async () => {
    const f = fakeCall({ maxHostCalls: 3 });
    // not even JSON: a parse would report a syntax error, the size check comes first
    expect(refusal(await answer(f.call, 'medplum', 'createResource', '{'.repeat(4 * 1024 * 1024 + 1)))).toBe(
      'Client call arguments are too large',
    );
    expect(refusal(await answer(f.call, 'medplum', 'readResource', '["Patient","a1"]'))).toBe(
      'answered: value:{"ok":true}',
    );
    expect(refusal(await answer(f.call, 'medplum', 'readResource', '["Patient","a1"]'))).toBe(
      'answered: value:{"ok":true}',
    );
    expect(refusal(await answer(f.call, 'medplum', 'readResource', '["Patient","a1"]'))).toBe(
      'Too many client calls in one invocation',
    );
    expect(refusal(await answer(f.call, 'admin', 'readResource', '["Patient","a1"]'))).toBe('Unknown client method');
    expect(f.hostCalls.length).toBe(2);
  });

  it('72 a client call arriving after its invocation ended is refused and touches no other call', async () => {
    const shared: unknown[][] = []; // a warm context's dispatcher serves consecutive calls
    const ended = fakeCall({ hb: shared });
    const next = fakeCall({ hb: shared });
    ended.call.active = false;
    expect(await answer(ended.call, 'medplum', 'readResource', '["Patient","a1"]')).toBeUndefined();
    deliver(ended.call, 1, 'value:{"late":true}');
    expect(ended.hostCalls).toEqual([]);
    expect(ended.call.hostCalls).toBe(0);
    expect(shared).toEqual([]);
    expect([next.call.hostCalls, next.call.argsSent, next.hostCalls.length]).toEqual([0, 0, 0]);

    // ends while the host is working on it: the answer is dropped, not delivered to whoever uses the context now
    let release: () => void = () => undefined;
    const slow = fakeCall({
      hb: shared,
      host: () => new Promise((resolve) => (release = () => resolve({ late: true }))),
    });
    const pending = answer(slow.call, 'medplum', 'readResource', '["Patient","a1"]');
    slow.call.active = false;
    release();
    expect(await pending).toBeUndefined();
    expect(shared).toEqual([]);

    // through the runtime: the bot's client is refused once its invocation is over, and the host never sees it
    let hostSaw = 0;
    const counting: HostCall = async () => {
      hostSaw++;
      return null;
    };
    const b = bot(`let kept; exports.handler = async (m) => {
      if (kept) { try { await kept.readResource('Patient', 'a1'); return 'answered'; } catch (e) { return e.message; } }
      kept = m; return 'kept';
    };`);
    const first = await rt.run({ code: b, event: {}, host: counting, reuseContext: true });
    const second = await rt.run({ code: b, event: {}, host: counting, reuseContext: true });
    expect([first.ok && first.result, second.ok && second.result]).toEqual([
      'kept',
      'This bot invocation has already ended',
    ]);
    expect(hostSaw).toBe(0);
  });

  it('73 the host bounds the log lines it keeps: oversized lines, floods of empty lines', async () => {
    const tail = new LogTail(1024);
    tail.push('log', 'x'.repeat(10 * 1024 * 1024));
    for (let i = 0; i < 100_000; i++) tail.push('log', '');
    const kept = tail.toArray();
    expect(kept.length).toBeLessThanOrEqual(1024);
    expect(kept.reduce((n, l) => n + l.message.length, 0)).toBeLessThanOrEqual(1024 + 256);
    const r = await rt.run({
      code: bot(`exports.handler = async () => { for (let i = 0; i < 1e6; i++) console.log(''); return 'done'; };`),
      event: {},
      host,
      limits: { maxLogBytes: 100, timeoutMs: 5000 },
    });
    expect(r.ok && r.result).toBe('done');
    expect(r.logs.length).toBeLessThanOrEqual(100);
  });
});

describe('after part 2', () => {
  it('the host is healthy: no unhandled rejections, a normal bot runs, memory near baseline', async () => {
    expect(unhandled).toEqual([]);
    expect(await result('exports.handler = async (m, e) => e.n + 1;', host, { n: 1 })).toBe(2);
    expect(rt.stats().healthy).toBe(true);
    expect(rt.stats().inFlight).toBe(0);
    expect(process.memoryUsage().rss - rssBefore()).toBeLessThan(200 * 1024 * 1024);
  });
});
