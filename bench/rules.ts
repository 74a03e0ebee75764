/**
 * Rule-set evaluation time for 10, 100 and 1,000 rules per request: in process (indexed, and with the index
 * defeated so every rule runs in json-rules-engine), and in the isolated-vm sandbox with a fresh context per call
 * and with a reused context. Run: `npm run bench -- rules` or
 * `node --no-node-snapshot --conditions=hookbot-source --import tsx -e "import('./bench/rules.ts').then(m => m.benchRules())"`.
 */
import { buildRuleBotCode } from '@hookbot/bots/build';
import { evaluateRuleSet, prepareRuleSet, type RuleSetDocument } from '@hookbot/bots/rules';
import { BotRuntime } from '@hookbot/runtime';
import { CPT, orderSignRequest } from '../packages/bots/src/rules/__fixtures__/minimal.js';
import { time } from './timing.js';

function ruleSet(n: number, indexed: boolean): RuleSetDocument {
  return {
    id: `bench-${n}`,
    hook: 'order-sign',
    title: 'bench',
    description: 'bench',
    crd: true,
    source: { label: 'Bench Payer' },
    facts: {
      plan: "prefetch.coverage.class.where(type.coding.code='group').value",
      codes: { fhirpath: '%order.code.coding', many: true },
      cpt: { fhirpath: `%order.code.coding.where(system='${CPT}').code`, many: true, maxLength: 10 },
    },
    rules: Array.from({ length: n }, (_, i) => {
      const all = [
        { fact: 'plan', operator: 'in', value: [`GRP${i % 10}`, 'GRP2245'] },
        { fact: 'codes', operator: 'codeIn', value: { system: 'cpt', codes: [String(10000 + i)] } },
      ];
      return {
        name: `r${i}`,
        conditions: indexed ? { all } : { any: [{ all }] },
        events: [
          { type: 'coverage-information' as const, covered: 'covered' as const, paNeeded: 'auth-needed' as const },
          {
            type: 'card' as const,
            summary: `Prior auth needed for CPT {{cpt}} (rule ${i})`,
            indicator: 'info' as const,
          },
        ],
      };
    }),
    defaultCoverage: { covered: 'covered', paNeeded: 'no-auth' },
  };
}

/** An order-sign request for one CPT code that the middle rule of an n-rule set matches. */
const request = (n: number) => orderSignRequest([[{ system: CPT, code: String(10000 + Math.floor(n / 2)) }]]);

export async function benchRules(): Promise<void> {
  const runtime = new BotRuntime();
  const rows: Record<string, string>[] = [];
  const fmt = (t: { median: number; p99: number }): string => `${t.median.toFixed(3)} / ${t.p99.toFixed(3)}`;
  try {
    for (const n of [10, 100, 1000]) {
      const req = request(n);
      const doc = prepareRuleSet(ruleSet(n, true));
      const flat = prepareRuleSet(ruleSet(n, false));
      const check = await evaluateRuleSet(doc, req);
      if (check.cards.length !== 1) throw new Error(`bench rule set for ${n} rules fired ${check.cards.length} cards`);
      const inProcess = await time(500, () => evaluateRuleSet(doc, req));
      const allRules = await time(n >= 1000 ? 50 : 200, () => evaluateRuleSet(flat, req));
      const code = await buildRuleBotCode(ruleSet(n, true));
      const botCode = { botId: `bench-${n}`, version: '1', code, format: 'commonjs' as const };
      const host = async (): Promise<unknown> => null;
      const sandbox = async (reuseContext: boolean): Promise<void> => {
        const result = await runtime.run({ code: botCode, event: req, host, reuseContext });
        if (!result.ok) throw new Error(`${result.kind}: ${result.message}`);
      };
      const fresh = await time(200, () => sandbox(false));
      const reused = await time(500, () => sandbox(true));
      rows.push({
        rules: String(n),
        'in process, indexed (ms median / p99)': fmt(inProcess),
        'in process, every rule in the engine': fmt(allRules),
        'sandbox, fresh context': fmt(fresh),
        'sandbox, reused context': fmt(reused),
      });
    }
  } finally {
    await runtime.close();
  }
  console.log(`Rule-set evaluation, one order per request (Node ${process.version})`);
  console.table(rows);
  await benchRulesOverHttp();
}

/**
 * Hook latency end to end: a real server (PGlite, bots in the default child process), the rule set deployed with
 * `$deploy-rules`, and sequential `POST /cds-services/{id}` calls with prefetch supplied.
 */
async function benchRulesOverHttp(): Promise<void> {
  const { startTestServer } = await import('../test/support/server.js');
  const { getToken, request: http } = await import('../test/support/http.js');
  const server = await startTestServer({ store: 'pglite' });
  const rows: Record<string, string>[] = [];
  try {
    const token = await getToken(server.url, server.demo.clientId, server.demo.clientSecret);
    const post = async (url: string, json: unknown) => {
      const res = await http<{ bot?: { id: string }; cards?: unknown[] }>(url, { method: 'POST', token, json });
      if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      return res.body;
    };
    for (const n of [10, 100, 1000]) {
      const deployed = await post(`${server.url}/fhir/R4/Bot/$deploy-rules`, { ruleSet: ruleSet(n, true) });
      const url = `${server.url}/cds-services/${deployed.bot?.id}`;
      const body = request(n);
      const result = await post(url, body);
      if (result.cards?.length !== 1) throw new Error(`HTTP bench for ${n} rules fired ${result.cards?.length} cards`);
      const t = await time(300, () => post(url, body));
      rows.push({
        rules: String(n),
        'POST /cds-services/{id} (ms median / p99)': `${t.median.toFixed(2)} / ${t.p99.toFixed(2)}`,
      });
    }
  } finally {
    await server.stop();
  }
  console.log('Hook latency end to end over HTTP, one caller, warm');
  console.table(rows);
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await benchRules();
