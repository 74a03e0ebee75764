/** Fair shares: runs and isolates per owner, and a bound on one run's client calls in flight. */
import { describe, expect, it } from 'vitest';
import { BotRuntime, type HostCall, type RunResult } from './index.js';
import { bot, sleep } from './testing/helpers.js';

const quick: HostCall = async () => ({ resourceType: 'Patient', id: 'p1' });

/** A host whose calls wait until `open()`; counts the calls it started and the most at once. */
function gatedHost(): { host: HostCall; open: () => void; started: () => number; most: () => number } {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((r) => (open = r));
  let started = 0;
  let now = 0;
  let most = 0;
  const host: HostCall = async () => {
    started++;
    most = Math.max(most, ++now);
    await gate;
    now--;
    return { resourceType: 'Patient', id: 'p1' };
  };
  return { host, open, started: () => started, most: () => most };
}

function ok(r: RunResult): unknown {
  if (!r.ok) throw new Error(`expected ok, got ${r.kind}: ${r.message}`);
  return r.result;
}

const READS = `exports.handler = async (m) => (await m.readResource('Patient', 'p1')).id;`;

describe('runs per owner', () => {
  it("queues an owner's runs beyond its limit briefly, then answers overloaded; other owners are not held up", async () => {
    const rt = new BotRuntime({ maxRunsPerOwner: 2, ownerQueueMs: 300, defaultLimits: { timeoutMs: 5000 } });
    try {
      const gated = gatedHost();
      const code = bot(READS);
      const burst = Array.from({ length: 5 }, () => rt.run({ code, event: {}, host: gated.host, owner: 'b' }));
      // Two run, two wait for them, the fifth is turned away at once.
      const fifth = await Promise.race([burst[4] as Promise<RunResult>, sleep(200).then(() => undefined)]);
      expect(fifth?.ok === false && fifth.kind).toBe('overloaded');
      const other = await rt.run({ code: bot(READS), event: {}, host: quick, owner: 'a' });
      expect(ok(other)).toBe('p1');
      const waited = await Promise.all([burst[2], burst[3]]);
      expect(waited.map((r) => r?.ok === false && r.kind)).toEqual(['overloaded', 'overloaded']);
      expect(waited[0]?.ok === false && waited[0].message).toMatch(/owner/);
      gated.open();
      expect((await Promise.all([burst[0], burst[1]])).map((r) => ok(r as RunResult))).toEqual(['p1', 'p1']);
    } finally {
      await rt.close();
    }
  });

  it('admits a waiting run when one of the owner finishes', async () => {
    const rt = new BotRuntime({ maxRunsPerOwner: 1, ownerQueueMs: 5000 });
    try {
      const gated = gatedHost();
      const first = rt.run({ code: bot(READS), event: {}, host: gated.host, owner: 'b' });
      const second = rt.run({ code: bot(READS), event: {}, host: quick, owner: 'b' });
      await sleep(100);
      gated.open();
      expect([ok(await first), ok(await second)]).toEqual(['p1', 'p1']);
    } finally {
      await rt.close();
    }
  });
});

describe('isolates per owner', () => {
  it("an owner at its limit replaces its own idle isolates, never another owner's", async () => {
    const rt = new BotRuntime({ maxIsolates: 4, maxIsolatesPerOwner: 2, maxIsolatesPerBot: 1 });
    try {
      const a1 = bot('exports.handler = async () => "a1";');
      expect(ok(await rt.run({ code: a1, event: {}, host: quick, owner: 'a' }))).toBe('a1');
      for (const name of ['b1', 'b2', 'b3', 'b4']) {
        const r = await rt.run({
          code: bot(`exports.handler = async () => "${name}";`),
          event: {},
          host: quick,
          owner: 'b',
        });
        expect(ok(r)).toBe(name);
      }
      expect(rt.stats()).toMatchObject({ isolates: 3, disposed: { evicted: 2 } });
      // a1's isolate is still there: its sealed context is reused rather than created.
      const { created } = rt.stats().contexts;
      expect(ok(await rt.run({ code: a1, event: {}, host: quick, owner: 'a' }))).toBe('a1');
      expect(rt.stats().contexts.created).toBe(created);
    } finally {
      await rt.close();
    }
  });

  it('an owner whose isolates are all busy is turned away while another owner still gets one', async () => {
    const rt = new BotRuntime({ maxIsolates: 4, maxIsolatesPerOwner: 2, maxIsolatesPerBot: 1 });
    try {
      const gated = gatedHost();
      const busy = [bot(READS), bot(READS)].map((code) => rt.run({ code, event: {}, host: gated.host, owner: 'b' }));
      await sleep(100);
      const third = await rt.run({ code: bot(READS), event: {}, host: quick, owner: 'b' });
      expect(third.ok === false && third.kind).toBe('overloaded');
      expect(ok(await rt.run({ code: bot(READS), event: {}, host: quick, owner: 'a' }))).toBe('p1');
      gated.open();
      expect((await Promise.all(busy)).map(ok)).toEqual(['p1', 'p1']);
    } finally {
      await rt.close();
    }
  });
});

describe("a run's client calls in flight", () => {
  const FIRE = (n: number) => `exports.handler = async (m) => {
    const all = [];
    for (let i = 0; i < ${n}; i++) all.push(m.readResource('Patient', 'p1'));
    return (await Promise.all(all)).length;
  };`;

  it('works on at most maxHostCallsInFlight at once and answers them all', async () => {
    const rt = new BotRuntime();
    try {
      let now = 0;
      let most = 0;
      const host: HostCall = async () => {
        most = Math.max(most, ++now);
        await sleep(1);
        now--;
        return { resourceType: 'Patient', id: 'p1' };
      };
      expect(ok(await rt.run({ code: bot(FIRE(100)), event: {}, host }))).toBe(100);
      expect(most).toBe(8);
      most = 0;
      const three = { code: bot(FIRE(20)), event: {}, host, limits: { maxHostCallsInFlight: 3 } };
      expect(ok(await rt.run(three))).toBe(20);
      expect(most).toBe(3);
    } finally {
      await rt.close();
    }
  });

  it("bounds an owner's client calls in flight across its runs, not another owner's", async () => {
    const rt = new BotRuntime({ maxHostCallsInFlightPerOwner: 10 });
    try {
      const gated = gatedHost();
      const code = bot(FIRE(20));
      const runs = [1, 2, 3].map(() => rt.run({ code, event: {}, host: gated.host, owner: 'b' }));
      for (let i = 0; i < 50 && gated.started() < 10; i++) await sleep(20);
      await sleep(100);
      expect(gated.started()).toBe(10);
      expect(ok(await rt.run({ code: bot(FIRE(20)), event: {}, host: quick, owner: 'a' }))).toBe(20);
      gated.open();
      expect((await Promise.all(runs)).map(ok)).toEqual([20, 20, 20]);
      expect(gated.most()).toBe(10);
    } finally {
      await rt.close();
    }
  });

  it('drops the calls still waiting when the run ends', async () => {
    const rt = new BotRuntime();
    try {
      const gated = gatedHost();
      const r = await rt.run({ code: bot(FIRE(1000)), event: {}, host: gated.host, limits: { timeoutMs: 300 } });
      expect(r.ok === false && r.kind).toBe('timeout');
      expect(gated.started()).toBe(8);
      gated.open();
      await sleep(100);
      expect(gated.started()).toBe(8);
    } finally {
      await rt.close();
    }
  });
});
