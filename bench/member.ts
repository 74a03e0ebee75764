/**
 * The Patient Access API: a demo member's `ExplanationOfBenefit?_include=ExplanationOfBenefit:coverage` with a
 * member token, at 1 and 8 concurrent requests (wrk), on a demo project holding BENCH_MEMBER_OTHERS (500) other
 * members, each with a Coverage and four EOBs: the compartment constraint has others to leave out. Every request
 * is audited (one AuditEvent, batched), as in production. Beside it, the payer administrator's same search naming
 * the patient (`&patient=`), unaudited and unconfined: what the member's constraint and audit cost.
 *
 * First, what a member's sign-in costs (member-sign-in.ts). Run: `npm run bench -- member`. Needs `wrk`. Options: HOOKBOT_BENCH_STORE=postgres (PostgreSQL and Redis),
 * BENCH_MEMBER_CONNECTIONS (1,8), BENCH_MEMBER_SECONDS (6), BENCH_MEMBER_WARMUP_SECONDS (3), BENCH_MEMBER_OTHERS.
 */
import { pathToFileURL } from 'node:url';
import type { Bundle, Coverage, Patient, Resource } from '@medplum/fhirtypes';
import { createRepository, signAccessToken, testAccess } from '@hookbot/server/testing';
import { getToken, request } from '../test/support/http.js';
import { startTestServer, type TestServer } from '../test/support/server.js';
import { benchMemberSignIn } from './member-sign-in.js';
import { wrkPost, wrkTable, type WrkResult } from './wrk.js';

const SECONDS = Number(process.env.BENCH_MEMBER_SECONDS ?? 6);
const WARMUP_S = Number(process.env.BENCH_MEMBER_WARMUP_SECONDS ?? 3);
const CONNECTIONS = (process.env.BENCH_MEMBER_CONNECTIONS ?? '1,8').split(',').map(Number);
const OTHERS = Number(process.env.BENCH_MEMBER_OTHERS ?? 500);
/** Seed 001's first member, from `examples/members/patient-access-members.json`. */
const MEMBER = 'demo-member-1';
const QUERY = 'ExplanationOfBenefit?_include=ExplanationOfBenefit:coverage';

export interface MemberBenchRow extends WrkResult {
  target: string;
}

/** Other members in the demo project, written in chunks (one transaction each). */
async function addOtherMembers(t: TestServer): Promise<void> {
  const repo = createRepository(t.server.services.db, testAccess(t.demo.projectId));
  for (let start = 0; start < OTHERS; start += 50) {
    const patients = await repo.createMany<Patient>(
      Array.from({ length: Math.min(50, OTHERS - start) }, (_, i) => ({
        resourceType: 'Patient' as const,
        name: [{ family: `Other${start + i}` }],
      })),
    );
    const coverages = await repo.createMany<Coverage>(
      patients.map((p) => ({
        resourceType: 'Coverage' as const,
        status: 'active' as const,
        beneficiary: { reference: `Patient/${p.id}` },
        payor: [{ reference: 'Organization/demo-health-plan' }],
      })),
    );
    const eobs: Resource[] = coverages.flatMap((c) =>
      [1, 2, 3, 4].map(() => ({
        resourceType: 'ExplanationOfBenefit' as const,
        status: 'active' as const,
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
        use: 'claim' as const,
        patient: c.beneficiary,
        created: '2024-03-01',
        insurer: { reference: 'Organization/demo-health-plan' },
        provider: { reference: 'Organization/demo-clinic-boston' },
        outcome: 'complete' as const,
        insurance: [{ focal: true, coverage: { reference: `Coverage/${c.id}` } }],
      })),
    );
    await repo.createMany(eobs);
  }
}

export async function benchMember(): Promise<MemberBenchRow[]> {
  await benchMemberSignIn();
  const production = process.env.HOOKBOT_BENCH_STORE === 'postgres';
  const t = await startTestServer({ store: production ? 'postgres' : 'pglite', redis: production });
  const rows: MemberBenchRow[] = [];
  try {
    await addOtherMembers(t);
    const { services } = t.server;
    const claims = { clientId: 'bench-member-app', projectId: t.demo.projectId, admin: false } as const;
    const token = await signAccessToken(
      services.key,
      services.config.baseUrl,
      { ...claims, role: 'member-app', scope: 'patient/*.rs', patient: MEMBER, fhirUser: `Patient/${MEMBER}` },
      3600,
    );
    const url = `${t.url}/fhir/R4/${QUERY}`;
    const first = await request<Bundle>(url, { token });
    const modes = (first.body.entry ?? []).map((e) => `${e.search?.mode}:${e.resource?.resourceType}`);
    if (first.status !== 200 || !modes.includes('match:ExplanationOfBenefit') || !modes.includes('include:Coverage')) {
      throw new Error(`the member search failed: ${first.status} ${JSON.stringify(first.body).slice(0, 500)}`);
    }
    const get = { method: 'GET' as const, headers: { Authorization: `Bearer ${token}` }, body: '' };
    for (let i = 0; i < 100; i++) await fetch(url, { headers: get.headers });
    if (WARMUP_S > 0) await wrkPost(url, { ...get, connections: 2, seconds: WARMUP_S });
    // The same answer for the payer's administrator, who names the patient: what the compartment constraint adds.
    const admin = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
    const adminGet = { ...get, headers: { Authorization: `Bearer ${admin}` } };
    const adminUrl = `${url}&patient=Patient/${MEMBER}`;
    for (const connections of CONNECTIONS) {
      await services.audit.flush();
      rows.push({ target: `member ${QUERY}`, ...(await wrkPost(url, { ...get, connections, seconds: SECONDS })) });
      await services.audit.flush();
      const baseline = await wrkPost(adminUrl, { ...adminGet, connections, seconds: SECONDS });
      rows.push({ target: 'admin, same search with patient=', ...baseline });
    }
    print(rows, production ? 'PostgreSQL + Redis' : 'PGlite', modes.length);
  } finally {
    await t.stop();
  }
  return rows;
}

function print(rows: MemberBenchRow[], store: string, entries: number): void {
  const lines = [
    `${store}; ${OTHERS} other members (a Coverage and 4 EOBs each); the member's answer has ${entries} entries;`,
    `wrk, ${SECONDS} s per run after ${WARMUP_S} s of warm-up; each request writes an AuditEvent (batched)`,
    ...wrkTable(rows, 68),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchMember();
  process.exit(0);
}
