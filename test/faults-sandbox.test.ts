/**
 * The sandbox under faults (process isolation: bots run in a worker process the server supervises). The worker
 * killed mid-call: that call fails, the worker is restarted, the next calls succeed and `/readyz` is 200 again. A
 * bot that leaks memory across calls (module state and globals growing on every call): nothing it keeps survives
 * the call (sealed contexts evaluate the module afresh and delete added globals), so the leak never accumulates. A
 * bot that outgrows its memory limit within a call: its isolate is replaced, costing that call, while another bot
 * answers and the worker process is never restarted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import { until } from './support/own-services.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
let token: string;
const fhir = () => `${t.url}/fhir/R4`;

beforeAll(async () => {
  t = await startTestServer({
    env: { HOOKBOT_BOT_ISOLATION: 'process', HOOKBOT_BOT_MEMORY_MB: '64', HOOKBOT_BOT_TIMEOUT_MS: '5000' },
  });
  token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
}, 120_000);
afterAll(async () => t?.stop());

async function deployed(name: string, code: string): Promise<string> {
  const created = await request<{ id: string }>(`${fhir()}/Bot`, {
    method: 'POST',
    token,
    json: { resourceType: 'Bot', name },
  });
  expect(created.status).toBe(201);
  const deploy = await request(`${fhir()}/Bot/${created.body.id}/$deploy`, { method: 'POST', token, json: { code } });
  expect(deploy.status).toBe(200);
  return created.body.id;
}

const execute = (id: string) => request(`${fhir()}/Bot/${id}/$execute`, { method: 'POST', token, json: {} });
const errorCode = (body: unknown) => JSON.stringify(body).match(/"code":"((?:bot|server)\.[a-z-]+)"/)?.[1];

describe('the sandbox under faults', () => {
  it('restarts a worker process killed mid-call: the next calls succeed and /readyz is 200 again', async () => {
    const quick = await deployed('quick', 'exports.handler = async () => ({ ok: true });');
    const slow = await deployed(
      'slow',
      'exports.handler = async () => { const end = Date.now() + 3000; while (Date.now() < end); return { ok: true }; };',
    );
    expect((await execute(quick)).status).toBe(200);
    const { runtime } = t.server.services;
    const before = runtime.stats();
    expect(before.pids.length).toBeGreaterThan(0);

    const inFlight = execute(slow);
    await until(async () => runtime.stats().inFlight > 0, 'the slow call to run');
    for (const pid of before.pids) process.kill(pid, 'SIGKILL');
    const failed = await inFlight;
    expect(failed.status).toBe(500);
    expect(failed.body.resourceType).toBe('OperationOutcome');

    expect((await execute(quick)).status).toBe(200);
    expect(runtime.stats().restarts).toBe(before.restarts + 1);
    expect(runtime.stats().pids).not.toEqual(before.pids);
    await until(async () => (await request(`${t.url}/readyz`)).status === 200, 'readiness after the restart');
    expect((await execute(slow)).status).toBe(200);
  });

  it('carries nothing a bot keeps from one call to the next, so a leak across calls never accumulates', async () => {
    // 8 MB kept on every call, in module state and on the global object: 30 calls would be 240 MB in a 64 MB isolate.
    const leaky = await deployed(
      'leaky',
      `const kept = [];
       exports.handler = async () => {
         kept.push(new Array(1024 * 1024).fill(kept.length));
         globalThis.stash = (globalThis.stash || []).concat([new Array(1024 * 1024).fill(0)]);
         return { kept: kept.length, stashed: globalThis.stash.length };
       };`,
    );
    const restarts = t.server.services.runtime.stats().restarts;
    for (let i = 0; i < 30; i += 1) {
      const res = await execute(leaky);
      expect(res.status, `call ${i + 1}`).toBe(200);
      expect(res.body).toEqual({ kept: 1, stashed: 1 });
    }
    expect(t.server.services.runtime.stats().restarts).toBe(restarts);
  });

  it('replaces the isolate of a bot that outgrows its memory limit, while another bot answers every call', async () => {
    const greedy = await deployed(
      'greedy',
      `exports.handler = async (medplum, event) => {
         const kept = [];
         for (let i = 0; i < (event.input && event.input.blocks || 0); i++) kept.push(new Array(1024 * 1024).fill(i));
         return { blocks: kept.length };
       };`,
    );
    const steady = await deployed('steady', 'exports.handler = async () => ({ ok: true });');
    const { runtime } = t.server.services;
    const before = runtime.stats();
    const run = (blocks: number) =>
      request(`${fhir()}/Bot/${greedy}/$execute`, { method: 'POST', token, json: { blocks } });
    expect((await run(1)).status).toBe(200);
    const [outgrown, other] = await Promise.all([run(64), execute(steady)]);
    expect(outgrown.status).toBe(500);
    expect(errorCode(outgrown.body)).toBe('bot.memory-exceeded');
    expect(other.status).toBe(200);
    expect(runtime.stats().disposed.memory).toBeGreaterThan(before.disposed.memory);
    // A new isolate: the bot answers again, and so does the other one; the worker process was not restarted.
    expect((await run(1)).status).toBe(200);
    expect((await execute(steady)).status).toBe(200);
    expect(runtime.stats().restarts).toBe(before.restarts);
  });
});
