/**
 * Row (c) of `bench/runtime.ts`: the same bots through HTTP `POST /fhir/R4/Bot/{id}/$execute` on a real server
 * (in this process, PGlite, port 0), once per isolation mode, measured with wrk: latency with one connection,
 * throughput with eight. The ten-read bot reads Patients p0…p9 created in the demo project.
 */
import { getToken, request } from '../test/support/http.js';
import { startTestServer, type TestServer } from '../test/support/server.js';
import { wrkPost, type WrkResult } from './wrk.js';

const SECONDS = Number(process.env['BENCH_HTTP_SECONDS'] ?? 4);

export interface HttpTarget {
  name: string;
  measure(botCode: string): Promise<{ p50: number; p99: number; rps: number; non2xx: number }>;
}

interface Started {
  mode: 'process' | 'in-process';
  server: TestServer;
  token: string;
  bots: Map<string, string>;
}

async function start(mode: Started['mode']): Promise<Started> {
  const server = await startTestServer({ store: 'pglite', env: { HOOKBOT_BOT_ISOLATION: mode } });
  const token = await getToken(server.url, server.demo.clientId, server.demo.clientSecret);
  for (let i = 0; i < 10; i++) {
    const put = await request(`${server.url}/fhir/R4/Patient/p${i}`, {
      method: 'PUT',
      token,
      json: { resourceType: 'Patient', id: `p${i}`, name: [{ family: `n${i}` }] },
    });
    if (put.status >= 300) throw new Error(`creating Patient/p${i} failed: ${put.status}`);
  }
  return { mode, server, token, bots: new Map() };
}

async function botFor(s: Started, code: string): Promise<string> {
  const known = s.bots.get(code);
  if (known) return known;
  const created = await request<{ id: string }>(`${s.server.url}/fhir/R4/Bot`, {
    method: 'POST',
    token: s.token,
    json: { resourceType: 'Bot', name: `bench-${s.bots.size}` },
  });
  const deployed = await request(`${s.server.url}/fhir/R4/Bot/${created.body.id}/$deploy`, {
    method: 'POST',
    token: s.token,
    json: { code },
  });
  if (deployed.status !== 200) throw new Error(`deploy failed: ${JSON.stringify(deployed.body)}`);
  const url = `${s.server.url}/fhir/R4/Bot/${created.body.id}/$execute`;
  for (let i = 0; i < 300; i++) {
    const r = await request(url, { method: 'POST', token: s.token, json: { n: i } });
    if (r.status !== 200) throw new Error(`warm-up $execute failed: ${r.status} ${JSON.stringify(r.body)}`);
  }
  s.bots.set(code, url);
  return url;
}

/** Starts one server per isolation mode; `close` stops them. */
export async function startHttpTargets(): Promise<{ targets: HttpTarget[]; close(): Promise<void> }> {
  const servers = [await start('process'), await start('in-process')];
  const targets = servers.map((s): HttpTarget => ({
    name: `(c) $execute over HTTP, ${s.mode === 'process' ? 'child process' : 'in-process'}`,
    async measure(code) {
      const url = await botFor(s, code);
      const post = {
        seconds: SECONDS,
        headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ n: 1 }),
      };
      const one: WrkResult = await wrkPost(url, { ...post, connections: 1 });
      const eight: WrkResult = await wrkPost(url, { ...post, connections: 8 });
      return { p50: one.p50Ms, p99: one.p99Ms, rps: eight.rps, non2xx: one.non2xx + eight.non2xx };
    },
  }));
  return {
    targets,
    close: async () => {
      for (const s of servers) await s.server.stop();
    },
  };
}
