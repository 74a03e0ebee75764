/**
 * Prior authorization: `Claim/$submit` with the seed's request Bundle (examples/pas/seed-request.json), decided by
 * the demo project's bound rule set in the sandbox, stored, answered — at 1 and 8 concurrent submitters (wrk), beside
 * a warm CDS Hooks call on the same server in the same run. Each submission is a new authorization (a Claim, a
 * ClaimResponse and their rows are written). Target: p99 under 1 s at 8 submitters (PAS allows 15 s, spec-7).
 *
 * Run: `npm run bench -- pas`. Needs `wrk`. Options: HOOKBOT_BENCH_STORE=postgres (PostgreSQL and Redis),
 * BENCH_PAS_CONNECTIONS (1,8), BENCH_PAS_SECONDS (6), BENCH_PAS_WARMUP_SECONDS (3).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { getToken, request } from '../test/support/http.js';
import { startTestServer } from '../test/support/server.js';
import { wrkPost, wrkTable, type WrkResult } from './wrk.js';

const SECONDS = Number(process.env.BENCH_PAS_SECONDS ?? 6);
const WARMUP_S = Number(process.env.BENCH_PAS_WARMUP_SECONDS ?? 3);
const CONNECTIONS = (process.env.BENCH_PAS_CONNECTIONS ?? '1,8').split(',').map(Number);

const CDS_BOT = `exports.handler = async (medplum, event) => ({
  cards: [{ summary: 'Coverage on file: ' + event.input.prefetch.patient.id, indicator: 'info', source: { label: 'bench' } }],
});`;

const CDS_BODY = JSON.stringify({
  hook: 'patient-view',
  hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
  context: { userId: 'Practitioner/prac-1', patientId: 'pat-a' },
  prefetch: { patient: { resourceType: 'Patient', id: 'pat-a', name: [{ family: 'Able' }] } },
});

export interface PasBenchRow extends WrkResult {
  target: string;
}

export async function benchPas(): Promise<PasBenchRow[]> {
  const production = process.env.HOOKBOT_BENCH_STORE === 'postgres';
  const t = await startTestServer({ store: production ? 'postgres' : 'pglite', redis: production });
  const rows: PasBenchRow[] = [];
  try {
    const token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const seed = await readFile(path.join(import.meta.dirname, '../examples/pas/seed-request.json'), 'utf8');
    const submitUrl = `${t.url}/fhir/R4/Claim/$submit`;
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' };
    const first = await fetch(submitUrl, { method: 'POST', headers, body: seed });
    const answer = (await first.json()) as { entry?: { resource?: { item?: unknown[]; outcome?: string } }[] };
    if (first.status !== 200 || answer.entry?.[0]?.resource?.outcome !== 'complete') {
      throw new Error(`the seed request was not certified: ${first.status} ${JSON.stringify(answer).slice(0, 500)}`);
    }

    const bot = await request<{ id: string }>(`${t.url}/fhir/R4/Bot`, {
      method: 'POST',
      token,
      json: {
        resourceType: 'Bot',
        name: 'bench-cds',
        cdsService: { hook: 'patient-view', title: 'Bench', description: 'Bench' },
      },
    });
    await request(`${t.url}/fhir/R4/Bot/${bot.body.id}/$deploy`, { method: 'POST', token, json: { code: CDS_BOT } });
    const cdsUrl = `${t.url}/cds-services/${bot.body.id}`;
    const cdsHeaders = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };

    for (let i = 0; i < 50; i++) await fetch(submitUrl, { method: 'POST', headers, body: seed });
    for (let i = 0; i < 200; i++) await fetch(cdsUrl, { method: 'POST', headers: cdsHeaders, body: CDS_BODY });
    if (WARMUP_S > 0) {
      await wrkPost(submitUrl, { connections: 2, seconds: WARMUP_S, headers, body: seed });
      await wrkPost(cdsUrl, { connections: 2, seconds: WARMUP_S, headers: cdsHeaders, body: CDS_BODY });
    }
    for (const connections of CONNECTIONS) {
      await t.server.services.audit.flush();
      rows.push({
        target: 'pas $submit (seed bundle)',
        ...(await wrkPost(submitUrl, { connections, seconds: SECONDS, headers, body: seed })),
      });
      await t.server.services.audit.flush();
      rows.push({
        target: 'cds hook (patient-view)',
        ...(await wrkPost(cdsUrl, { connections, seconds: SECONDS, headers: cdsHeaders, body: CDS_BODY })),
      });
    }
  } finally {
    await t.stop();
  }
  print(rows, production ? 'PostgreSQL + Redis' : 'PGlite');
  return rows;
}

function print(rows: PasBenchRow[], store: string): void {
  const lines = [
    `${store}; wrk, ${SECONDS} s per run after ${WARMUP_S} s of warm-up; each $submit stores a new authorization`,
    ...wrkTable(rows, 28),
  ];
  const eight = rows.find((r) => r.target.startsWith('pas') && r.connections === 8);
  if (eight) {
    const ok = eight.p99Ms < 1000 && eight.non2xx === 0;
    lines.push(`pas $submit: ${ok ? 'meets' : 'MISSES'} the target (8 submitters: p99 < 1 s, no errors)`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchPas();
  process.exit(0);
}
