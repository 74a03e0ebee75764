/**
 * Sealed contexts (the default for untrusted bots): contexts are reused, so these tests try every way we know for
 * one call to leave something behind for the next, and assert that the next call sees nothing of it. Each test
 * also asserts that the context was in fact reused, so a pass is not a fresh context hiding a leak.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { BotRuntime, type RunResult } from './index.js';
import { bot, memoryHost } from './testing/helpers.js';
import { RANDOM_CHANNEL_BOT } from './testing/random-channel-bot.js';

const rt = new BotRuntime({ defaultLimits: { timeoutMs: 2000 }, maxWarmContexts: 1, maxIsolatesPerBot: 1 });
const { host } = memoryHost({ 'Patient/p1': { resourceType: 'Patient', id: 'p1', tenant: 'a' } });
afterAll(() => rt.close());

function ok(r: RunResult): unknown {
  if (!r.ok) throw new Error(`expected ok, got ${r.kind}: ${r.message}`);
  return r.result;
}

/** Runs the bot with each event in turn (one context, reused) and returns the results. */
async function calls(code: string, events: unknown[], format?: 'module'): Promise<unknown[]> {
  const b = bot(code, format ? { format } : {});
  const reusedBefore = rt.stats().contexts.reused;
  const out: unknown[] = [];
  for (const event of events) out.push(ok(await rt.run({ code: b, event, host })));
  expect(rt.stats().contexts.reused - reusedBefore).toBe(events.length - 1);
  return out;
}

describe('nothing of one call reaches the next', () => {
  it('module-level state is evaluated afresh for every call (CommonJS and ES modules)', async () => {
    expect(
      await calls(
        `let n = 0; const seen = []; exports.handler = async (m, e) => { seen.push(e); return [++n, seen.length]; };`,
        [1, 2, 3],
      ),
    ).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    expect(await calls(`let n = 0; export async function handler() { return ++n; }`, [1, 2], 'module')).toEqual([1, 1]);
  });

  it('globals a call adds are gone in the next, however they were added', async () => {
    const code = `exports.handler = async (m, e) => {
      const seen = [typeof implicit, typeof globalThis.assigned, typeof defined, typeof viaEval, typeof fnViaEval,
        typeof Symbol.for('k') === 'symbol' && globalThis[Symbol.for('k')]];
      if (e.write) {
        try { implicit = e.secret; } catch (_) {}
        globalThis.assigned = e.secret;
        Object.defineProperty(globalThis, 'defined', { value: e.secret, configurable: true });
        (0, eval)('var viaEval = 1; function fnViaEval() {}');
        globalThis[Symbol.for('k')] = e.secret;
      }
      return seen.map(String);
    };`;
    const clean = ['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined'];
    const [, second] = await calls(code, [{ write: true, secret: 'ssn-123' }, {}]);
    expect(second).toEqual(clean);
  });

  it('a global that cannot be deleted, a sealed or re-parented global object: the next call gets a new context', async () => {
    for (const attack of [
      `Object.defineProperty(globalThis, 'stuck', { value: e.secret, configurable: false });`,
      `Object.preventExtensions(globalThis);`,
      `Object.setPrototypeOf(globalThis, { stuck: e.secret });`,
    ]) {
      const b = bot(`exports.handler = async (m, e) => {
        const seen = [typeof stuck, Object.isExtensible(globalThis)];
        if (e.write) { ${attack} }
        globalThis.added = 1;
        return seen.map(String);
      };`);
      ok(await rt.run({ code: b, event: { write: true, secret: 'ssn-123' }, host }));
      expect(ok(await rt.run({ code: b, event: {}, host }))).toEqual(['undefined', 'true']);
      expect(ok(await rt.run({ code: b, event: {}, host }))).toEqual(['undefined', 'true']);
    }
  });

  it('intrinsics cannot be changed: pollution attempts fail and the next call sees none of them', async () => {
    const code = `exports.handler = async (m, e) => {
      const seen = [({}).polluted, [].polluted, typeof [].push, JSON.stringify({ a: 1 }), typeof console.log,
        (function* () {}).constructor.prototype.polluted, Object.getPrototypeOf([][Symbol.iterator]()).polluted,
        Object.getPrototypeOf(async () => {}).polluted, Promise.prototype.polluted, Error.stackTraceLimit,
        console.log.polluted, Math.polluted];
      if (e.write) {
        const attempts = [
          () => { Object.prototype.polluted = e.secret; },
          () => { Array.prototype.polluted = e.secret; },
          () => { Array.prototype.push = null; },
          () => { JSON.stringify = () => 'pwned'; },
          () => { console.log = null; },
          () => { console.log.polluted = e.secret; },
          () => { (function* () {}).constructor.prototype.polluted = e.secret; },
          () => { Object.getPrototypeOf([][Symbol.iterator]()).polluted = e.secret; },
          () => { Object.getPrototypeOf(async () => {}).polluted = e.secret; },
          () => { Promise.prototype.polluted = e.secret; },
          () => { Error.stackTraceLimit = 0; },
          () => { Math.polluted = e.secret; },
          () => { Object.defineProperty(Object.prototype, 'polluted', { value: e.secret }); },
          () => { Object.setPrototypeOf(Object.prototype, { polluted: e.secret }); },
          () => { [].__proto__.polluted = e.secret; },
          () => { Object.prototype.toString = () => e.secret; },
        ];
        const refused = attempts.map((a) => { try { a(); return false; } catch (_) { return true; } });
        return { refused };
      }
      return seen.map(String);
    };`;
    const [first, second] = await calls(code, [{ write: true, secret: 'ssn-123' }, {}]);
    // The bot code is sloppy-mode, where some failed assignments are silent; defineProperty always throws.
    expect((first as { refused: boolean[] }).refused.slice(-4)).toEqual([true, true, false, true]);
    expect(second).toEqual([
      'undefined',
      'undefined',
      'function',
      '{"a":1}',
      'function',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      '10',
      'undefined',
      'undefined',
    ]);
  });

  it('every object reachable from the global object and from each kind of built-in instance is frozen', async () => {
    const code = `exports.handler = async () => {
      // The call's own instances of each kind (not frozen: they are its own); what they inherit from must be.
      const instances = [function* () {}, async function () {}, async function* () {}, [][Symbol.iterator](), new Map().entries(), new Set().values(), ''[Symbol.iterator](),
        /a/g[Symbol.matchAll]('a'), new Intl.Segmenter().segment('a'), new Intl.Segmenter().segment('a')[Symbol.iterator](),
        (function () { return arguments; })(), new Error('e'), new TypeError('e'), Promise.resolve(), new Uint8Array(0),
        new DataView(new ArrayBuffer(1)), new Intl.DateTimeFormat(), new WeakMap(), /x/, new Date(), Symbol('s'), 1n];
      const open = [];
      const todo = [Object.getPrototypeOf(globalThis)];
      for (const i of instances) todo.push(Object.getPrototypeOf(Object(i)));
      // A generator's prototype is its function's own .prototype; the intrinsic is the next one up.
      todo.push(Object.getPrototypeOf(Object.getPrototypeOf((function* () {})())));
      todo.push(Object.getPrototypeOf(Object.getPrototypeOf((async function* () {})())));
      for (const k of Reflect.ownKeys(globalThis)) {
        const d = Object.getOwnPropertyDescriptor(globalThis, k);
        if (d.configurable || d.writable) open.push('globalThis.' + String(k));
        todo.push(d.value, d.get, d.set);
      }
      const seen = new WeakSet([globalThis]);
      let checked = 0;
      while (todo.length) {
        const o = todo.pop();
        if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) continue;
        seen.add(o);
        checked++;
        if (!Object.isFrozen(o)) open.push(typeof o === 'function' ? 'function ' + o.name : Object.prototype.toString.call(o));
        todo.push(Object.getPrototypeOf(o));
        for (const k of Reflect.ownKeys(o)) {
          const d = Object.getOwnPropertyDescriptor(o, k);
          todo.push(d.value, d.get, d.set);
          // What an accessor answers (the tamed prototypes keep the real functions behind getters).
          if (d.get) try { todo.push(Reflect.apply(d.get, o, [])); } catch (_) {}
        }
      }
      return { open, many: checked > 500 || checked };
    };`;
    const [result] = await calls(code, [{}]);
    expect(result).toEqual({ open: [], many: true });
  });

  it('the last match of a regular expression is not kept for the next call (RegExp legacy statics)', async () => {
    const code = `exports.handler = async (m, e) => {
      const seen = [RegExp.$1, RegExp.lastMatch, RegExp.input, RegExp['$_'], RegExp.leftContext].map(String);
      if (e.secret) /(\\d+)/.exec('ssn ' + e.secret);
      return seen;
    };`;
    const [, second] = await calls(code, [{ secret: '123456789' }, {}]);
    expect(second).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
  });

  it('the module function itself cannot carry data (arguments.callee in sloppy code)', async () => {
    const code = `const self = arguments.callee;
      exports.handler = async (m, e) => {
        const seen = [String(self.stash), String(self.prototype && self.prototype.stash)];
        try { self.stash = e.secret; } catch (_) {}
        try { self.prototype.stash = e.secret; } catch (_) {}
        return seen;
      };`;
    const [, second] = await calls(code, [{ secret: 'x' }, {}]);
    expect(second).toEqual(['undefined', 'undefined']);
  });

  it('the functions behind the tamed accessors cannot carry data or intercept the next call', async () => {
    const code = `exports.handler = async (m, e) => {
      const has = Object.prototype.hasOwnProperty;
      const seen = [String(Object.prototype.toString.leak), String(has.stolen), has.call === Function.prototype.call];
      if (e.write) {
        try { Object.prototype.toString.leak = e.secret; } catch (_) {}
        try {
          Object.defineProperty(has, 'call', { value: function (o, k) { has.stolen = JSON.stringify(o); return Reflect.apply(has, o, [k]); } });
        } catch (_) {}
      }
      return [...seen, Object.prototype.hasOwnProperty.call(e, 'ssn')];
    };`;
    const [, second, third] = await calls(code, [{ write: true, secret: 's3cret' }, { ssn: '123' }, {}]);
    expect(second).toEqual(['undefined', 'undefined', true, true]);
    expect(third).toEqual(['undefined', 'undefined', true, false]);
  });

  it("an ES module's top level does not see the globals of the call before", async () => {
    const code = `const seen = String(globalThis.leak);
      export async function handler(m, e) { if (e.write) globalThis.leak = e.secret; return seen; }`;
    expect(await calls(code, [{ write: true, secret: 's3cret' }, {}], 'module')).toEqual(['undefined', 'undefined']);
  });

  it('Math.random is reseeded for every call from the call id, not carried over', async () => {
    const code = `exports.handler = async () => {
      let sum = 0;
      for (let i = 0; i < 10000; i++) { const r = Math.random(); if (!(r >= 0 && r < 1)) return 'out of range'; sum += r; }
      return { first: [Math.random(), Math.random()], mean: sum / 10000, own: !/native code/.test(String(Math.random)) };
    };`;
    const [a, b] = (await calls(code, [{}, {}])) as { first: number[]; mean: number; own: boolean }[];
    expect(a?.own && b?.own).toBe(true);
    expect(a?.mean).toBeGreaterThan(0.48);
    expect(a?.mean).toBeLessThan(0.52);
    expect(a?.first).not.toEqual(b?.first);
  });

  it("Math.random carries nothing to the next call's module top level (a state-recovery attack)", async () => {
    for (const secret of ['s3cret', 'Zq']) {
      const [a, b] = (await calls(RANDOM_CHANNEL_BOT, [{ secret }, {}], 'module')) as {
        phase: string;
        leaked?: string;
      }[];
      expect(a?.phase).toBe('A');
      expect(b?.leaked).not.toBe(secret.slice(0, 2));
    }
  });

  it('microtasks a call leaves behind cannot write into the next call', async () => {
    const code = `exports.handler = async (m, e) => {
      const seen = String(globalThis.late);
      if (e.write) {
        let p = Promise.resolve();
        for (let i = 0; i < 50; i++) p = p.then(() => undefined);
        p.then(() => { globalThis.late = e.secret; });
      }
      return seen;
    };`;
    expect(await calls(code, [{ write: true, secret: 'x' }, {}, {}])).toEqual(['undefined', 'undefined', 'undefined']);
  });
});

describe('what bots commonly do still works', () => {
  it('assigning over inherited name, message, toString and constructor (the override mistake is tamed)', async () => {
    const code = `'use strict';
      class NotCovered extends Error { constructor(m) { super(m); this.name = 'NotCovered'; } }
      function Legacy() {} Legacy.prototype.toString = function () { return 'legacy'; };
      const o = {}; o.constructor = Legacy; o.valueOf = () => 7; o.hasOwnProperty = () => true;
      const e = new Error('x'); e.message = 'changed';
      exports.handler = async () => {
        let own;
        try { Object.prototype.toString = () => 'pwned'; own = 'changed'; } catch (err) { own = err.constructor.name; }
        return [new NotCovered('m').name, String(new Legacy()), o.constructor === Legacy, o + 1, e.message, own,
          Object.prototype.toString.call([])];
      };`;
    expect(await calls(code, [{}, {}])).toEqual([
      ['NotCovered', 'legacy', true, 8, 'changed', 'TypeError', '[object Array]'],
      ['NotCovered', 'legacy', true, 8, 'changed', 'TypeError', '[object Array]'],
    ]);
  });

  it('more calls at once than warm contexts: the others get contexts of their own, and all answer', async () => {
    const b = bot(
      `let n = 0; exports.handler = async (m, e) => { await m.readResource('Patient', 'p1'); return [e.i, ++n]; };`,
    );
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => rt.run({ code: b, event: { i }, host })));
    expect(results.map(ok)).toEqual([0, 1, 2, 3, 4].map((i) => [i, 1]));
  });

  it('code that closes its module wrapper early is refused when deployed', async () => {
    const check = await rt.check(`exports.handler = async () => 1;\n}));\nglobalThis.x = 1;\n((function () {`);
    expect(check.ok).toBe(false);
    expect(check.message).toMatch(/closes its module wrapper early/);
    expect((await rt.check(`exports.handler = async () => 1;`)).ok).toBe(true);
  });
});

describe('fresh contexts (HOOKBOT_BOT_CONTEXTS=fresh)', () => {
  it('create a context per call and let a bot change its own intrinsics', async () => {
    const fresh = new BotRuntime({ contexts: 'fresh' });
    try {
      const b = bot(
        `exports.handler = async () => { const before = [].polluted; Array.prototype.polluted = 1; return String(before); };`,
      );
      for (let i = 0; i < 3; i++) expect(ok(await fresh.run({ code: b, event: {}, host }))).toBe('undefined');
      expect(fresh.stats().contexts).toEqual({ created: 3, reused: 0 });
    } finally {
      await fresh.close();
    }
  });
});
