import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessBotRuntime, type RunResult } from './index.js';
import { WORKER_ENV_ALLOWED } from './process-runtime.js';
import { bot, HostError, memoryHost, sleep } from './testing/helpers.js';

const catastrophic: string[] = [];
let workerStderr = '';
const rt = new ProcessBotRuntime({
  defaultLimits: { timeoutMs: 2000, memoryMb: 32 },
  onCatastrophicError: (m) => void catastrophic.push(m),
  // The bomb below makes V8 print its fatal out-of-memory report; it belongs to this test, not the suite's output.
  onWorkerStderr: (text) => void (workerStderr += text),
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
    expect(rt.stats().pids[0]).not.toBe(process.pid);
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
    process.kill(rt.stats().pids[0] as number, 'SIGKILL');
    const r = await slow;
    expect(r.ok === false && r.kind).toBe('crashed');
    const next = rt.run({ code: bot('exports.handler = async () => "back";'), event: {}, host });
    // The replacement is starting: an embedder's readiness probe sees it until the new process answers.
    expect(rt.stats().restarting).toBe(true);
    expect(ok(await next)).toBe('back');
    expect(rt.stats().restarting).toBe(false);
    expect(rt.stats().restarts).toBe(before + 1);
  });

  it('replaces the worker after a catastrophic isolate error', async () => {
    const pid = rt.stats().pids[0];
    const bomb = bot('exports.handler = async () => { const m = new Map(); for (let i = 0; ; i++) m.set(i, i); };');
    const r = await rt.run({ code: bomb, event: {}, host });
    expect(r.ok).toBe(false);
    expect(ok(await rt.run({ code: bot('exports.handler = async () => "fresh";'), event: {}, host }))).toBe('fresh');
    if (catastrophic.length > 0) {
      expect(rt.stats().pids[0]).not.toBe(pid);
      expect(workerStderr).toMatch(/Last few GCs|out of memory/i);
    }
  });

  it("sends a bot version's code once per worker and picks up a new version", async () => {
    const v1 = bot('exports.handler = async (m, e) => "v1:" + e.n;');
    expect(ok(await rt.run({ code: v1, event: { n: 1 }, host }))).toBe('v1:1');
    expect(ok(await rt.run({ code: v1, event: { n: 2 }, host }))).toBe('v1:2');
    const v2 = { ...v1, version: '2', code: 'exports.handler = async (m, e) => "v2:" + e.n;' };
    expect(ok(await rt.run({ code: v2, event: { n: 3 }, host }))).toBe('v2:3');
  });

  it('spreads calls over several worker processes and restarts the one that died', async () => {
    const pool = new ProcessBotRuntime({ processes: 2, defaultLimits: { timeoutMs: 2000 } });
    try {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => (release = r));
      const code = bot(`exports.handler = async (m, e) => { await m.readResource('Patient', 'p1'); return e.n; };`);
      const runs = [1, 2].map((n) => pool.run({ code, event: { n }, host: async () => gate }));
      for (let i = 0; i < 100 && pool.stats().inFlight < 2; i++) await sleep(50);
      const { pids } = pool.stats();
      expect(new Set(pids).size).toBe(2);
      expect(pool.stats().inFlight).toBe(2);
      release();
      expect((await Promise.all(runs)).map(ok)).toEqual([1, 2]);
      process.kill(pids[1] as number, 'SIGKILL');
      await sleep(100);
      expect((await Promise.all([3, 4].map((n) => pool.run({ code, event: { n }, host })))).map(ok)).toEqual([3, 4]);
      expect(pool.stats().restarts).toBe(1);
      expect(pool.stats().pids).toHaveLength(2);
    } finally {
      await pool.close();
    }
  });

  // The environment a process started with, as the kernel keeps it (what an escaped bot could read).
  it.skipIf(!existsSync('/proc/self/environ'))("keeps the server's environment out of the worker", async () => {
    const secrets = {
      DATABASE_URL: 'postgres://hookbot:db-password-7f3a@db/hookbot',
      HOOKBOT_SECRETS_KEY: 'secrets-key-9c2e',
      HOOKBOT_ADMIN_CLIENT_SECRET: 'admin-secret-41d8',
      AWS_SECRET_ACCESS_KEY: 'aws-secret-0b6f',
      NODE_OPTIONS: '--require /tmp/not-for-the-worker.cjs',
    };
    const saved = Object.fromEntries(Object.keys(secrets).map((k) => [k, process.env[k]]));
    Object.assign(process.env, secrets);
    const isolated = new ProcessBotRuntime({ defaultLimits: { timeoutMs: 2000 } });
    try {
      expect(ok(await isolated.run({ code: bot('exports.handler = async () => "up";'), event: {}, host }))).toBe('up');
      const pid = isolated.stats().pids[0] as number;
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      for (const value of Object.values(secrets)) expect(environ).not.toContain(value);
      const names = environ
        .split('\0')
        .filter(Boolean)
        .map((entry) => entry.slice(0, entry.indexOf('=')));
      // Besides the allowed ones: the runtime's options and the IPC channel Node's `fork` adds.
      const own = ['HOOKBOT_RUNTIME_OPTIONS', 'NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE'];
      expect(names.filter((n) => !own.includes(n) && !WORKER_ENV_ALLOWED.includes(n))).toEqual([]);
    } finally {
      await isolated.close();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  // Root only: changing the user needs the privilege (CI runs as root).
  it.skipIf(process.getuid?.() !== 0)(
    "runs the worker as the user it is given, so an escaped bot cannot read the server's environment",
    async () => {
      const isolated = new ProcessBotRuntime({ defaultLimits: { timeoutMs: 5000 }, user: { uid: 65534, gid: 65534 } });
      try {
        expect(ok(await isolated.run({ code: bot('exports.handler = async () => "up";'), event: {}, host }))).toBe(
          'up',
        );
        const status = readFileSync(`/proc/${isolated.stats().pids[0] as number}/status`, 'utf8');
        expect(status).toMatch(/^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
        expect(status).toMatch(/^Gid:\s+65534\s+65534\s+65534\s+65534$/m);
        // Which user it runs as is the parent's business, not among the options the worker is given.
        const environ = readFileSync(`/proc/${isolated.stats().pids[0] as number}/environ`, 'utf8');
        const passed = environ.split('\0').find((e) => e.startsWith('HOOKBOT_RUNTIME_OPTIONS='));
        expect(JSON.parse(passed?.slice('HOOKBOT_RUNTIME_OPTIONS='.length) ?? 'null')).toEqual({
          defaultLimits: { timeoutMs: 5000 },
        });
      } finally {
        await isolated.close();
      }
    },
  );
});
