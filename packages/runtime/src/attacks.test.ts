/**
 * Attack suite, part 1: escapes, globals, prototype pollution, hostile results and throws, run with
 * sealed contexts (the default) and with fresh ones. Part 2 (limits, timers, the host bridge) is
 * attacks-limits.test.ts; what sealed contexts add is sealed.test.ts. Each hostile bot asserts the safe outcome.
 */
import { describe, expect, it } from 'vitest';
import { BotRuntime, type RunResult } from './index.js';
import { bot, memoryHost, watchHost } from './testing/helpers.js';

describe.each(['sealed', 'fresh'] as const)('%s contexts', (contexts) => {
  const rt = new BotRuntime({ defaultLimits: { timeoutMs: 1000 }, contexts });
  const { host } = memoryHost({ 'Patient/p1': { resourceType: 'Patient', id: 'p1', tenant: 'a' } });
  const { unhandled, rssBefore } = watchHost(rt, host);

  const run = (code: string, event: unknown = {}): Promise<RunResult> => rt.run({ code: bot(code), event, host });

  async function result(code: string, event: unknown = {}): Promise<unknown> {
    const r = await run(code, event);
    if (!r.ok) throw new Error(`expected ok, got ${r.kind}: ${r.message}`);
    return r.result;
  }

  async function failure(code: string): Promise<Extract<RunResult, { ok: false }>> {
    const r = await run(code);
    if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.result)}`);
    return r;
  }

  describe('constructor-chain escapes stay in the isolate', () => {
    it('01 this.constructor.constructor at the top level', async () => {
      const code = `const p = this.constructor.constructor('return typeof process')();
      exports.handler = async () => p;`;
      expect(await result(code)).toBe('undefined');
    });

    it('02 through an async function constructor', async () => {
      const code = `exports.handler = async () => (async () => {}).constructor('return typeof process')();`;
      expect(await result(code)).toBe('undefined');
    });

    it('03 through an Error', async () => {
      const code = `exports.handler = async () =>
      new Error('x').constructor.constructor('return [typeof process, typeof require, typeof module, typeof Buffer]')();`;
      expect(await result(code)).toEqual(['undefined', 'undefined', 'undefined', 'undefined']);
    });

    it('04 through a Promise, listing the real global object', async () => {
      const code = `exports.handler = async () =>
      Promise.resolve().constructor.constructor('return Reflect.ownKeys(globalThis).map(String)')();`;
      const keys = (await result(code)) as string[];
      for (const forbidden of ['process', 'require', 'module', 'Buffer', 'fetch', 'global', 'ivm', 'WebAssembly']) {
        expect(keys).not.toContain(forbidden);
      }
      expect(keys.filter((k) => k.includes('hookbot'))).toEqual([]);
    });

    it('05 through a Proxy', async () => {
      const code = `exports.handler = async () => {
      const p = new Proxy(function () {}, { get: (t, k) => Reflect.get(t, k) });
      return p.constructor('return typeof process')();
    };`;
      expect(await result(code)).toBe('undefined');
    });

    it('06 through Symbol.species on a Promise subclass', async () => {
      const code = `exports.handler = async () => {
      let leaked = 'none';
      class Evil extends Promise {
        static get [Symbol.species]() {
          return function (executor) { leaked = executor.constructor.constructor('return typeof process')(); return new Promise(executor); };
        }
      }
      await Evil.resolve(1).then((x) => x);
      return leaked;
    };`;
      expect(await result(code)).toBe('undefined');
    });

    it('07 through the medplum client and its methods', async () => {
      const code = `exports.handler = async (medplum) => [
      medplum.readResource.constructor('return typeof process')(),
      medplum.constructor.constructor('return typeof process')(),
      Object.getPrototypeOf(medplum.readResource('Patient', 'p1')).constructor.constructor('return typeof require')(),
    ];`;
      expect(await result(code)).toEqual(['undefined', 'undefined', 'undefined']);
    });

    it('08 through a host error and a host result', async () => {
      const code = `exports.handler = async (medplum) => {
      const ok = await medplum.readResource('Patient', 'p1');
      let err;
      try { await medplum.readResource('Patient', 'nope'); } catch (e) { err = e; }
      return {
        fromResult: ok.constructor.constructor('return typeof process')(),
        fromError: err.constructor.constructor('return typeof process')(),
        hostPathsInStack: /node:|\\/work\\/|node_modules/.test(String(err.stack)),
      };
    };`;
      expect(await result(code)).toEqual({ fromResult: 'undefined', fromError: 'undefined', hostPathsInStack: false });
    });

    it('09 through the event', async () => {
      const code = `exports.handler = async (m, event) => [
      event.constructor.constructor('return typeof process')(),
      event.list.constructor.constructor('return typeof process')(),
    ];`;
      expect(await result(code, { list: [1] })).toEqual(['undefined', 'undefined']);
    });

    it('10 through Error.prepareStackTrace call sites', async () => {
      const code = `exports.handler = async () => {
      Error.prepareStackTrace = (e, frames) => frames.map((f) => {
        const fn = f.getFunction();
        return [typeof f.getThis(), fn ? fn.constructor.constructor('return typeof process')() : 'strict'];
      });
      const frames = new Error('x').stack;
      if (typeof frames === 'string') return 'no call sites';
      return frames.every(([, p]) => p === 'undefined' || p === 'strict');
    };`;
      // Sealed: Error is frozen, so the hook is never installed.
      expect(await result(code)).toBe(contexts === 'sealed' ? 'no call sites' : true);
    });
  });

  describe('host capabilities are absent', () => {
    it('11 no process, require, fetch, timers, Buffer, WebAssembly, SharedArrayBuffer, Atomics, weak refs', async () => {
      const names = [
        'process',
        'require',
        'module',
        'fetch',
        'setTimeout',
        'setInterval',
        'setImmediate',
        'queueMicrotask',
        'Buffer',
        'WebAssembly',
        'SharedArrayBuffer',
        'Atomics',
        'FinalizationRegistry',
        'WeakRef',
        'performance',
        'global',
        'XMLHttpRequest',
        'WebSocket',
        'ivm',
        '_ivm',
      ];
      const code = `exports.handler = async (m, e) => e.names.filter((n) => typeof globalThis[n] !== 'undefined')`;
      expect(await result(code, { names })).toEqual([]);
    });

    it('12 require() is not defined', async () => {
      const r = await failure(`exports.handler = async () => require('child_process').execSync('id').toString();`);
      expect(r.kind).toBe('thrown');
      expect(r.message).toMatch(/require is not defined/);
    });

    it('13 dynamic import() is refused', async () => {
      const code = `exports.handler = async () => {
      try { const fs = await import('fs'); return 'loaded ' + typeof fs.readFileSync; } catch (e) { return 'refused'; }
    };`;
      expect(await result(code)).toBe('refused');
    });

    it('14 no isolated-vm object is reachable from globals or clients', async () => {
      const code = `exports.handler = async (medplum, e, clients) => {
      const suspicious = [];
      const seen = new Set();
      const visit = (v, path, depth) => {
        if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v) || depth > 3) return;
        seen.add(v);
        for (const k of ['derefInto', 'applySync', 'copySync', 'getSync', 'copyInto', 'deref']) {
          try { if (k in v) suspicious.push(path + '.' + k); } catch {}
        }
        for (const k of Reflect.ownKeys(v)) {
          let child; try { child = v[k]; } catch { continue; }
          visit(child, path + '.' + String(k), depth + 1);
        }
      };
      visit(globalThis, 'globalThis', 0);
      visit(clients, 'clients', 0);
      return suspicious;
    };`;
      expect(await result(code)).toEqual([]);
    });

    it('15 the prelude dispatcher and bot factory are not reachable by name', async () => {
      const code = `exports.handler = async () =>
      ['hookbot', 'bind', '__hookbotFactory', 'hookbotPrelude', 'send', 'log'].map((n) => {
        try { return typeof eval(n); } catch { return 'undefined'; }
      });`;
      expect(await result(code)).toEqual([
        'undefined',
        'undefined',
        'undefined',
        'undefined',
        'undefined',
        'undefined',
      ]);
    });

    it('16 closing the CommonJS wrapper early runs no code before the prelude', async () => {
      const code = `}));
      const seen = [typeof WebAssembly, typeof process].join();
      ((function () { return 'result:' + JSON.stringify(seen); `;
      const r = await run(code);
      // Either the hijacked dispatcher's answer (the globals were already gone) or a refused run; never an escape.
      if (r.ok) expect(r.result).toBe('undefined,undefined');
      else expect(['crashed', 'compile', 'thrown']).toContain(r.kind);
    });

    it('16b closing the CommonJS wrapper early into an endless loop times out every call', async () => {
      const b = bot(`}));\nfor (;;) {}\n((function () {`);
      for (let i = 0; i < 2; i++) {
        const r = await rt.run({ code: b, event: {}, host, limits: { timeoutMs: 200 } });
        expect(r.ok).toBe(false);
        // Sealed contexts refuse code that closes its module wrapper before it runs.
        if (!r.ok) expect(r.kind).toBe(contexts === 'sealed' ? 'compile' : 'timeout');
      }
      expect(await result('exports.handler = async () => "still serving";')).toBe('still serving');
    });
  });

  describe('closing the CommonJS wrapper early cannot take over the dispatcher', () => {
    // The reviewer's repro: text that makes its own function the bot script's completion value. Before the fix that
    // value was the host's dispatcher handle, so the function got the raw send/log callbacks.
    const EVIL = `function evil(op, send, log, ns, callId) {
  if (op !== 'run') {
    // called as a factory: record what it was given
    const got = [typeof op, typeof send, typeof log, arguments.length];
    op.handler = async (medplum) => ({ got, clientCalls: typeof medplum.readResource });
    return;
  }
  const big = JSON.stringify(['Patient', 'x'.repeat(4 * 1024 * 1024 - 100)]);
  for (let i = 0; i < 50; i++) send(callId, i + 1, 'medplum', 'readResource', big);
  return Promise.resolve('result:' + JSON.stringify({ hijacked: true }));
}`;

    async function attempt(code: string): Promise<{ r: RunResult; hostCalls: number }> {
      let hostCalls = 0;
      const b = bot(code);
      const r = await rt.run({
        code: b,
        event: {},
        host: async () => {
          hostCalls++;
          return null;
        },
      });
      rt.invalidate(b.botId); // keeps the pool (and this file's memory check) as it was
      return { r, hostCalls };
    }

    it('16c a function left as the completion value is never called with the run callbacks', async () => {
      const { r, hostCalls } = await attempt(`exports.handler = async () => 'normal';
}));
(${EVIL});
var __x = ((function () {`);
      if (contexts === 'sealed') expect(!r.ok && r.kind).toBe('compile');
      else expect(r.ok && r.result).toBe('normal');
      expect(hostCalls).toBe(0);
    });

    it('16d a function bound in place of the wrapper only runs as the factory, given (exports, module)', async () => {
      const { r, hostCalls } = await attempt(`exports.handler = async () => 'normal';
}, evil));
${EVIL}
var __x = ((function () {`);
      if (contexts === 'sealed') expect(!r.ok && r.kind).toBe('compile');
      else expect(r.ok && r.result).toEqual({ got: ['object', 'object', 'undefined', 2], clientCalls: 'function' });
      expect(hostCalls).toBe(0);
    });
  });

  describe('prototype pollution', () => {
    it('17 does not reach the host', async () => {
      const code = `exports.handler = async () => {
      Object.prototype.polluted = 'yes'; Array.prototype.polluted = 'yes';
      try { Object.defineProperty(Object.prototype, 'then', { get() { return undefined; }, configurable: true }); } catch (_) {}
      return { a: [1] };
    };`;
      expect(await result(code)).toEqual({ a: [1] });
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(([] as unknown as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('18 does not reach the next invocation', async () => {
      const b = bot(`exports.handler = async (m, e) => {
      const before = { proto: ({}).polluted, stash: globalThis.stash, json: JSON.stringify({ a: 1 }), con: typeof console.log };
      Object.prototype.polluted = 'yes'; globalThis.stash = 'x'; JSON.stringify = () => '"pwned"'; console.log = null;
      Promise.prototype.then = function () { throw new Error('hijacked'); };
      return before;
    };`);
      await rt.run({ code: b, event: {}, host });
      const second = await rt.run({ code: b, event: {}, host });
      expect(second.ok && second.result).toEqual({ json: '{"a":1}', con: 'function' });
    });

    it('18b does not reach later invocations through the pre-booted spare contexts', async () => {
      const b = bot(`exports.handler = async (m, e) => {
      const seen = [({}).polluted, globalThis.stash, typeof JSON.stringify({})];
      Object.prototype.polluted = e.n; globalThis.stash = e.n; JSON.stringify = () => 1;
      await m.readResource('Patient', 'p1');
      return seen.map(String);
    };`);
      const clean = ['undefined', 'undefined', 'string'];
      for (let n = 0; n < 5; n++) {
        const r = await rt.run({ code: b, event: { n }, host });
        expect(r.ok && r.result).toEqual(clean);
      }
      const parallel = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => rt.run({ code: b, event: { n }, host })));
      for (const r of parallel) expect(r.ok && r.result).toEqual(clean);
    });

    it('19 of Object.prototype does not change isolated-vm transfer options', async () => {
      const code = `exports.handler = async (medplum) => {
      for (const k of ['reference', 'copy', 'externalCopy', 'promise', 'result', 'arguments']) {
        try { Object.defineProperty(Object.prototype, k, { get() { return true; }, configurable: true }); } catch (_) {}
      }
      const p = await medplum.readResource('Patient', 'p1');
      return { id: p.id, type: typeof p, keys: Object.keys(p).sort() };
    };`;
      expect(await result(code)).toEqual({ id: 'p1', type: 'object', keys: ['id', 'resourceType', 'tenant'] });
    });

    it('20 tampering with JSON and Reflect before returning does not forge the result', async () => {
      const code = `exports.handler = async () => {
      JSON.stringify = () => 'result:{"forged":true}'; JSON.parse = () => ({ forged: true }); Reflect.apply = () => 'forged';
      return { real: true };
    };`;
      expect(await result(code)).toEqual({ real: true });
    });

    it('21 a __proto__ key in the result is refused', async () => {
      const r = await failure(`exports.handler = async () => JSON.parse('{"__proto__":{"isAdmin":true}}');`);
      expect(r.kind).toBe('bad-output');
      expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
    });
  });

  describe('hostile results', () => {
    it('22 a getter that throws while the result is copied', async () => {
      const r = await failure(`exports.handler = async () => ({ get x() { throw new Error('getter says no'); } });`);
      expect(r.kind).toBe('bad-output');
      expect(r.message).toMatch(/getter says no/);
    });

    it('23 a getter that loops while the result is copied', async () => {
      expect((await failure(`exports.handler = async () => ({ get x() { for (;;) {} } });`)).kind).toBe('timeout');
    });

    it('24 a Proxy whose traps throw or loop', async () => {
      const throwing = await failure(
        `exports.handler = async () => new Proxy({}, { ownKeys() { throw new Error('trap'); } });`,
      );
      const looping = await failure(`exports.handler = async () => new Proxy({}, { ownKeys() { for (;;) {} } });`);
      expect(throwing.kind).toBe('bad-output');
      expect(looping.kind).toBe('timeout');
    });

    it('25 a thenable result whose then loops', async () => {
      expect((await failure(`exports.handler = () => ({ then() { for (;;) {} } });`)).kind).toBe('timeout');
    });

    it('26 a giant string output', async () => {
      expect((await failure(`exports.handler = async () => 'x'.repeat(20 * 1024 * 1024);`)).kind).toBe(
        'output-too-large',
      );
    });

    it('27 a toJSON that inflates the output', async () => {
      const r = await failure(`exports.handler = async () => ({ toJSON() { return 'y'.repeat(3 * 1024 * 1024); } });`);
      expect(r.kind).toBe('output-too-large');
    });

    it('28 a sparse array of length 2^32-1', async () => {
      const r = await failure(`exports.handler = async () => { const a = []; a.length = 2 ** 32 - 1; return a; };`);
      expect(['bad-output', 'output-too-large', 'timeout', 'memory']).toContain(r.kind);
    });

    it('29 deeply nested output', async () => {
      const deep = await failure(
        `exports.handler = async () => { let o = []; for (let i = 0; i < 1e6; i++) o = [o]; return o; };`,
      );
      const nested = await failure(
        `exports.handler = async () => { let o = {}; for (let i = 0; i < 300; i++) o = { o }; return o; };`,
      );
      expect(['bad-output', 'timeout']).toContain(deep.kind);
      expect(nested.kind).toBe('bad-output');
    });

    it('30 a function or symbol as the result', async () => {
      expect((await failure(`exports.handler = async () => Symbol('s');`)).kind).toBe('bad-output');
      expect((await failure(`exports.handler = async () => function () {};`)).kind).toBe('bad-output');
    });
  });

  describe('hostile throws', () => {
    it.each([
      ['31 a string', `throw 'plain string';`, /^plain string$/],
      ['32 a number', `throw 42;`, /non-Error value was thrown: 42/],
      ['33 null', `throw null;`, /non-Error value was thrown: null/],
      ['34 undefined', `throw undefined;`, /non-Error value was thrown: undefined/],
      ['35 a symbol', `throw Symbol('s');`, /non-Error value was thrown: Symbol\(s\)/],
      ['36 an object whose toString loops', `throw { toString() { for (;;) {} } };`, /non-Error value was thrown/],
      [
        '37 an Error whose message getter throws',
        `const e = new Error('x'); Object.defineProperty(e, 'message', { get() { throw e; } }); throw e;`,
        /An error was thrown/,
      ],
      ['38 a 10 MB message', `throw new Error('m'.repeat(10 * 1024 * 1024));`, /^m+…$/],
    ])('%s', async (_name, body, expected) => {
      const r = await failure(`exports.handler = async () => { ${body} };`);
      expect(r.kind).toBe('thrown');
      expect(r.message).toMatch(expected);
      expect(r.message.length).toBeLessThanOrEqual(1000);
    });

    it('39 an Error whose name getter loops', async () => {
      const r = await failure(
        `exports.handler = async () => { const e = new Error('x'); Object.defineProperty(e, 'name', { get() { for (;;) {} } }); throw e; };`,
      );
      expect(r.kind).toBe('timeout');
    });

    it('40 a deep throw with an unlimited stack trace', async () => {
      const r = await failure(`Error.stackTraceLimit = Infinity;
      exports.handler = async () => { const f = (n) => { if (n === 0) throw new Error('deep'); return f(n - 1); }; return f(5000); };`);
      expect(r.kind).toBe('thrown');
      expect(r.message).toBe('deep');
    });
  });

  describe('after part 1', () => {
    it('the host is healthy: no unhandled rejections, a normal bot runs, memory near baseline', async () => {
      expect(unhandled).toEqual([]);
      expect(await result('exports.handler = async (m, e) => e.n + 1;', { n: 1 })).toBe(2);
      expect(rt.stats().healthy).toBe(true);
      // Idle pooled isolates keep the garbage of the hostile calls in their heaps (~200 MB here, and growing with
      // every test added); what must not stay behind is host memory once they are disposed.
      await rt.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(process.memoryUsage().rss - rssBefore()).toBeLessThan(100 * 1024 * 1024);
    });
  });
});
