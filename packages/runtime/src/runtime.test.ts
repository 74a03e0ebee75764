import { afterAll, describe, expect, it } from 'vitest';
import { BotRuntime, type BotCode, type RunResult } from './index.js';
import { bot, HostError, memoryHost, sleep } from './testing/helpers.js';

const rt = new BotRuntime();
afterAll(() => rt.close());

const { host, calls } = memoryHost({
  'Patient/p1': { resourceType: 'Patient', id: 'p1', tenant: 'a' },
  'Coverage/c1': { resourceType: 'Coverage', id: 'c1', tenant: 'a' },
});

function expectOk(r: RunResult): unknown {
  if (!r.ok) throw new Error(`expected ok, got ${r.kind}: ${r.message}`);
  return r.result;
}

function expectFail(r: RunResult, kind: string): Extract<RunResult, { ok: false }> {
  if (r.ok) throw new Error(`expected ${kind}, got ok: ${JSON.stringify(r.result)}`);
  expect(r.kind).toBe(kind);
  return r;
}

describe('bot code model', () => {
  it('runs a CommonJS exports.handler with the event', async () => {
    const r = await rt.run({
      code: bot('exports.handler = async (medplum, event) => ({ twice: event.n * 2 });'),
      event: { n: 21 },
      host,
    });
    expect(expectOk(r)).toEqual({ twice: 42 });
    if (r.ok) {
      expect(r.durationMs).toBeGreaterThan(0);
      expect(r.cpuMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('accepts module.exports = { handler } and module.exports = function', async () => {
    const a = await rt.run({ code: bot('module.exports = { handler: async () => "a" };'), event: null, host });
    const b = await rt.run({ code: bot('module.exports = async function () { return "b"; };'), event: null, host });
    expect([expectOk(a), expectOk(b)]).toEqual(['a', 'b']);
  });

  it('runs ES module bots (named and default exports)', async () => {
    const named = bot('const k = 3;\nexport async function handler(medplum, event) {\n  return event.n * k;\n}\n');
    const dflt = bot('export default async function (medplum, event) { return event.n + 1; }');
    expect(expectOk(await rt.run({ code: named, event: { n: 2 }, host }))).toBe(6);
    expect(expectOk(await rt.run({ code: named, event: { n: 3 }, host }))).toBe(9);
    expect(expectOk(await rt.run({ code: dflt, event: { n: 2 }, host }))).toBe(3);
  });

  it('refuses ES module imports at compile time', async () => {
    const r = await rt.run({ code: bot("import fs from 'fs';\nexport const handler = () => 1;"), event: {}, host });
    expect(expectFail(r, 'compile').message).toMatch(/cannot import/);
  });

  it('reports a missing handler as a compile failure', async () => {
    const r = await rt.run({ code: bot('exports.notAHandler = 1;'), event: {}, host });
    expect(expectFail(r, 'compile').message).toMatch(/handler/);
  });

  it('passes medplum as the first client and all clients as the third argument', async () => {
    const code = bot(`exports.handler = async (medplum, event, clients) => {
      const p = await medplum.readResource('Patient', 'p1');
      const c = await clients.payer.readResource('Coverage', 'c1');
      return { same: medplum === clients.medplum, names: Object.keys(clients), p: p.id, c: c.id };
    };`);
    const before = calls.length;
    const r = await rt.run({ code, event: {}, host, clients: ['medplum', 'payer'] });
    expect(expectOk(r)).toEqual({ same: true, names: ['medplum', 'payer'], p: 'p1', c: 'c1' });
    expect(calls.slice(before).map((c) => `${c.client}.${c.method}`)).toEqual([
      'medplum.readResource',
      'payer.readResource',
    ]);
  });

  it('returns search results as arrays and undefined from an empty searchOne', async () => {
    const code = bot(`exports.handler = async (m) => {
      const all = await m.searchResources('Patient', { name: 'x' });
      const none = await m.searchOne('Claim', {});
      return { isArray: Array.isArray(all), n: all.length, none: none === undefined };
    };`);
    expect(expectOk(await rt.run({ code, event: {}, host }))).toEqual({ isArray: true, n: 1, none: true });
  });

  it('surfaces host errors as catchable Errors with message, status and code', async () => {
    const code = bot(`exports.handler = async (m) => {
      try { await m.readResource('Patient', 'missing'); return 'no error'; }
      catch (e) { return { isError: e instanceof Error, message: e.message, status: e.status, code: e.code }; }
    };`);
    expect(expectOk(await rt.run({ code, event: {}, host }))).toEqual({
      isError: true,
      message: 'Not found: Patient/missing',
      status: 404,
      code: 'not-found',
    });
  });

  it('maps an undefined result to null', async () => {
    expect(expectOk(await rt.run({ code: bot('exports.handler = async () => {};'), event: {}, host }))).toBeNull();
  });
});

describe('logs', () => {
  it('captures console.log/info/warn/error with levels', async () => {
    const code = bot(`exports.handler = async () => {
      console.log('a', 1, { b: 2 }); console.info('i'); console.warn('w'); console.error(new TypeError('bad'));
      return 1;
    };`);
    const r = await rt.run({ code, event: {}, host });
    expect(r.logs.map((l) => [l.level, l.message.split('\n')[0]])).toEqual([
      ['log', 'a 1 {"b":2}'],
      ['info', 'i'],
      ['warn', 'w'],
      ['error', 'TypeError: bad'],
    ]);
    expect(r.logs[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('keeps a bounded tail of the output', async () => {
    const code = bot(
      `exports.handler = async () => { for (let i = 0; i < 500; i++) console.log('line ' + i + ' ' + 'x'.repeat(50)); return 1; };`,
    );
    const r = await rt.run({ code, event: {}, host, limits: { maxLogBytes: 1000 } });
    const bytes = r.logs.reduce((n, l) => n + Buffer.byteLength(l.message), 0);
    expect(bytes).toBeLessThanOrEqual(1000);
    expect(r.logs.length).toBeGreaterThan(0);
  });

  it('returns the logs of a failed run too', async () => {
    const code = bot(`exports.handler = async () => { console.log('step 1'); throw new Error('boom'); };`);
    const r = await rt.run({ code, event: {}, host });
    expectFail(r, 'thrown');
    expect(r.logs.map((l) => l.message)).toEqual(['step 1']);
  });
});

describe('failures', () => {
  it('reports a thrown error with its message and line', async () => {
    const code = bot(`exports.handler = async () => {\n  const x = 1;\n  throw new RangeError('out of range');\n};`);
    const r = expectFail(await rt.run({ code, event: {}, host }), 'thrown');
    expect(r.message).toBe('RangeError: out of range');
    expect(r.line).toBe(3);
  });

  it('reports an error thrown by the top level', async () => {
    const r = expectFail(await rt.run({ code: bot("\nthrow new Error('top');"), event: {}, host }), 'thrown');
    expect(r.message).toBe('top');
    expect(r.line).toBe(2);
  });

  it('reports compile errors with the line, in run and in check', async () => {
    const source = 'exports.handler = async () => {\n  let x = ;\n};';
    const r = expectFail(await rt.run({ code: bot(source), event: {}, host }), 'compile');
    expect(r.line).toBe(2);
    expect(await rt.check(source)).toEqual({ ok: false, message: "Unexpected token ';'", line: 2, column: 11 });
    expect(await rt.check('let y = ;')).toMatchObject({ ok: false, line: 1, column: 9 });
    expect(await rt.check('exports.handler = async () => 1;')).toEqual({ ok: true });
    expect(await rt.check('export async function handler() {}')).toEqual({ ok: true });
    expect(await rt.check('export function handler() {\n  return {;\n}')).toMatchObject({ ok: false, line: 2 });
  });

  it('rejects results that are not JSON-serialisable', async () => {
    const fn = await rt.run({ code: bot('exports.handler = async () => () => 1;'), event: {}, host });
    const cycle = await rt.run({
      code: bot('exports.handler = async () => { const a = {}; a.a = a; return a; };'),
      event: {},
      host,
    });
    const big = await rt.run({ code: bot('exports.handler = async () => 10n;'), event: {}, host });
    expect(expectFail(fn, 'bad-output').message).toMatch(/not JSON-serialisable/);
    expect(expectFail(cycle, 'bad-output').message).toMatch(/circular/i);
    expectFail(big, 'bad-output');
  });

  it('bounds the output size', async () => {
    const code = bot('exports.handler = async (m, e) => "é".repeat(e.n);');
    expect(expectOk(await rt.run({ code, event: { n: 100 }, host, limits: { maxOutputBytes: 1000 } }))).toHaveLength(
      100,
    );
    // 600 characters are 1,202 UTF-8 bytes with the quotes
    expectFail(await rt.run({ code, event: { n: 600 }, host, limits: { maxOutputBytes: 1000 } }), 'output-too-large');
    expectFail(await rt.run({ code, event: { n: 2000 }, host, limits: { maxOutputBytes: 1000 } }), 'output-too-large');
  });

  it('rejects __proto__ and constructor.prototype keys in the result', async () => {
    const proto = bot(`exports.handler = async () => JSON.parse('{"a":{"__proto__":{"polluted":true}}}');`);
    const ctor = bot(`exports.handler = async () => ({ constructor: { prototype: { polluted: true } } });`);
    expect(expectFail(await rt.run({ code: proto, event: {}, host }), 'bad-output').message).toMatch(/__proto__/);
    expectFail(await rt.run({ code: ctor, event: {}, host }), 'bad-output');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('applies the wall-clock timeout to async waits', async () => {
    const code = bot('exports.handler = () => new Promise(() => {});');
    const r = expectFail(await rt.run({ code, event: {}, host, limits: { timeoutMs: 200 } }), 'timeout');
    expect(r.message).toMatch(/200 ms/);
  });

  it('applies the per-run memory limit and clamps it to the server maximum', async () => {
    const small = new BotRuntime({ maxMemoryMb: 16 });
    try {
      const code = bot('exports.handler = async () => { const a = []; for (;;) a.push(new Array(1e5).fill(1)); };');
      const r = expectFail(await small.run({ code, event: {}, host, limits: { memoryMb: 4096 } }), 'memory');
      expect(r.message).toMatch(/16 MB/);
      expect(small.stats().disposed.memory).toBe(1);
      const ok = await small.run({ code: { ...code, code: 'exports.handler = async () => "fine";' }, event: {}, host });
      expect(expectOk(ok)).toBe('fine');
    } finally {
      await small.close();
    }
  });

  it('rejects an event that is not JSON-serialisable without running the bot', async () => {
    const event: Record<string, unknown> = {};
    event['self'] = event;
    expectFail(await rt.run({ code: bot('exports.handler = async () => 1;'), event, host }), 'crashed');
  });

  it('rejects invalid client names', async () => {
    const r = await rt.run({ code: bot('exports.handler = async () => 1;'), event: {}, host, clients: ['__proto__'] });
    expectFail(r, 'crashed');
  });
});

describe('isolation between invocations', () => {
  it('gives every invocation a fresh context', async () => {
    const code = bot(`
      let topLevelRuns = (globalThis.topLevelRuns || 0) + 1;
      globalThis.topLevelRuns = topLevelRuns;
      exports.handler = async () => {
        const seen = { stash: globalThis.stash, proto: ({}).polluted, topLevelRuns };
        globalThis.stash = 'left over';
        Object.prototype.polluted = 'yes';
        Array.prototype.map = () => 'hijacked';
        return seen;
      };`);
    const first = expectOk(await rt.run({ code, event: {}, host }));
    const second = expectOk(await rt.run({ code, event: {}, host }));
    expect(first).toEqual({ topLevelRuns: 1 });
    expect(second).toEqual({ topLevelRuns: 1 });
  });

  it('keeps a warm context for trusted code with reuseContext', async () => {
    const code = bot(`
      let topLevelRuns = 0; topLevelRuns++;
      let calls = 0;
      exports.handler = async (m, e) => ({ topLevelRuns, calls: ++calls, n: e.n });`);
    const results = [];
    for (let n = 0; n < 3; n++) results.push(expectOk(await rt.run({ code, event: { n }, host, reuseContext: true })));
    expect(results).toEqual([
      { topLevelRuns: 1, calls: 1, n: 0 },
      { topLevelRuns: 1, calls: 2, n: 1 },
      { topLevelRuns: 1, calls: 3, n: 2 },
    ]);
  });

  it('discards a warm context after a timeout', async () => {
    const code = bot(
      `let calls = 0; exports.handler = async (m, e) => { calls++; if (e.hang) for (;;) {} return calls; };`,
    );
    expect(expectOk(await rt.run({ code, event: {}, host, reuseContext: true }))).toBe(1);
    expectFail(
      await rt.run({ code, event: { hang: true }, host, reuseContext: true, limits: { timeoutMs: 100 } }),
      'timeout',
    );
    expect(expectOk(await rt.run({ code, event: {}, host, reuseContext: true }))).toBe(1);
  });

  it('runs concurrent invocations of one bot independently', async () => {
    const code = bot(
      `exports.handler = async (m, e) => { globalThis.mine = e.n; await m.readResource('Patient', 'p1'); return globalThis.mine; };`,
    );
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => rt.run({ code, event: { n }, host })));
    expect(results.map(expectOk)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('versions, invalidation and the pool', () => {
  it('runs the new code after a redeploy and lets in-flight calls finish on the old one', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slowHost = async (): Promise<unknown> => {
      await gate;
      return 'answer';
    };
    const v1 = bot(`exports.handler = async (m) => 'v1:' + (await m.readResource('X', '1'));`);
    const v2 = { ...v1, version: '2', code: `exports.handler = async () => 'v2';` };
    const inFlight = rt.run({ code: v1, event: {}, host: slowHost });
    await sleep(20);
    expect(expectOk(await rt.run({ code: v2, event: {}, host }))).toBe('v2');
    release();
    expect(expectOk(await inFlight)).toBe('v1:answer');
  });

  it('invalidate drops the compiled code for a bot', async () => {
    const local = new BotRuntime();
    try {
      const code = bot('exports.handler = async () => 1;');
      await local.run({ code, event: {}, host });
      expect(local.stats().isolates).toBe(1);
      local.invalidate(code.botId);
      expect(local.stats().isolates).toBe(0);
      expect(expectOk(await local.run({ code, event: {}, host }))).toBe(1);
    } finally {
      await local.close();
    }
  });

  it('evicts the least recently used idle isolate when the pool is full', async () => {
    const local = new BotRuntime({ maxIsolates: 2 });
    try {
      const [one, two, three] = [1, 2, 3].map((n) => bot(`exports.handler = async () => ${n};`)) as [
        BotCode,
        BotCode,
        BotCode,
      ];
      for (const b of [one, two, one, three]) expectOk(await local.run({ code: b, event: {}, host }));
      expect(local.stats().isolates).toBe(2);
      expect(local.stats().disposed.evicted).toBe(1);
      // Bot 1 was called after bot 2, so bot 2's isolate went and bot 1's is still warm.
      expectOk(await local.run({ code: one, event: {}, host }));
      expect(local.stats().disposed.evicted).toBe(1);
    } finally {
      await local.close();
    }
  });

  it('gives a busy bot more isolates, up to maxIsolatesPerBot, counted against maxIsolates', async () => {
    const local = new BotRuntime({ maxIsolates: 3, maxIsolatesPerBot: 2 });
    try {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => (release = r));
      const code = bot(`exports.handler = async (m, e) => { await m.readResource('X', '1'); return e.n; };`);
      const runs = [1, 2, 3].map((n) => local.run({ code, event: { n }, host: async () => gate }));
      await sleep(50);
      expect(local.stats().isolates).toBe(2);
      expect(expectOk(await local.run({ code: bot('exports.handler = async () => 1;'), event: {}, host }))).toBe(1);
      expect(local.stats().isolates).toBe(3);
      release();
      expect((await Promise.all(runs)).map(expectOk)).toEqual([1, 2, 3]);
    } finally {
      await local.close();
    }
  });

  it('does not grow a bot past maxIsolates: its calls share one isolate', async () => {
    const local = new BotRuntime({ maxIsolates: 1, maxIsolatesPerBot: 4 });
    try {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => (release = r));
      const code = bot(`exports.handler = async (m, e) => { await m.readResource('X', '1'); return e.n; };`);
      const runs = [1, 2, 3].map((n) => local.run({ code, event: { n }, host: async () => gate }));
      await sleep(50);
      expect(local.stats().isolates).toBe(1);
      release();
      expect((await Promise.all(runs)).map(expectOk)).toEqual([1, 2, 3]);
    } finally {
      await local.close();
    }
  });

  it('retires every isolate of a bot on redeploy', async () => {
    const local = new BotRuntime({ maxIsolatesPerBot: 2 });
    try {
      const v1 = bot(`exports.handler = async (m) => { await m.readResource('Patient', 'p1'); return 'v1'; };`);
      expect((await Promise.all([1, 2].map(() => local.run({ code: v1, event: {}, host })))).map(expectOk)).toEqual([
        'v1',
        'v1',
      ]);
      expect(local.stats().isolates).toBe(2);
      const v2 = { ...v1, version: '2', code: `exports.handler = async () => 'v2';` };
      expect(expectOk(await local.run({ code: v2, event: {}, host }))).toBe('v2');
      expect(local.stats().isolates).toBe(1);
      expect(local.stats().disposed.retired).toBe(2);
    } finally {
      await local.close();
    }
  });

  it('answers overloaded when every isolate is busy', async () => {
    const local = new BotRuntime({ maxIsolates: 1 });
    try {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => (release = r));
      const busy = local.run({
        code: bot(`exports.handler = async (m) => m.readResource('X', '1');`),
        event: {},
        host: async () => gate,
      });
      await sleep(20);
      const r = await local.run({ code: bot('exports.handler = async () => 1;'), event: {}, host });
      expectFail(r, 'overloaded');
      release();
      expect((await busy).ok).toBe(true);
    } finally {
      await local.close();
    }
  });

  it('remembers compile failures per version', async () => {
    const code = bot('exports.handler = ;');
    expectFail(await rt.run({ code, event: {}, host }), 'compile');
    expectFail(await rt.run({ code, event: {}, host }), 'compile');
    expect(
      expectOk(await rt.run({ code: { ...code, version: '2', code: 'exports.handler = () => 2;' }, event: {}, host })),
    ).toBe(2);
  });

  it('answers crashed after close', async () => {
    const local = new BotRuntime();
    await local.close();
    expect(
      expectFail(await local.run({ code: bot('exports.handler = () => 1;'), event: {}, host }), 'crashed').message,
    ).toMatch(/closed/);
  });

  it('reports HookbotError-like host errors with their issue code', async () => {
    const code = bot(
      `exports.handler = async (m) => { try { await m.createResource({}); } catch (e) { return [e.message, e.status, e.code]; } };`,
    );
    const r = await rt.run({
      code,
      event: {},
      host: async () => {
        throw new HostError(403, 'No write access');
      },
    });
    expect(expectOk(r)).toEqual(['No write access', 403, 'forbidden']);
  });
});
