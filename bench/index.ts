/**
 * `npm run bench -- <store|runtime|cds|rules|pas|member|v8|auth|data|soak|all>`: each benchmark prints its own table. Benchmarks start real
 * servers and databases on this machine (PostgreSQL from HOOKBOT_TEST_PG_URL, loopback only) and stop by themselves.
 */
const BENCHES: Record<string, () => Promise<unknown>> = {
  store: async () => (await import('./store.js')).benchStore(),
  runtime: async () => (await import('./runtime.js')).benchRuntime(),
  cds: async () => (await import('./cds.js')).benchCds(),
  rules: async () => (await import('./rules.js')).benchRules(),
  pas: async () => (await import('./pas.js')).benchPas(),
  member: async () => (await import('./member.js')).benchMember(),
  v8: async () => (await import('./v8.js')).benchV8(),
  auth: async () => (await import('./auth.js')).benchAuth(),
  data: async () => (await import('./data.js')).benchData(),
  soak: async () => (await import('./soak.js')).benchSoak(),
};

const LONG = ['data', 'soak'];

async function main(): Promise<void> {
  // Names come first; what follows the first option belongs to the benchmarks (`data --members 1000`).
  const args = process.argv.slice(2);
  const firstOption = args.findIndex((a) => a.startsWith('-'));
  const names = firstOption < 0 ? args : args.slice(0, firstOption);
  if (names.length === 0 || args.includes('--help')) {
    process.stdout.write(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}|all> [...]\n`);
    process.exitCode = names.length === 0 ? 2 : 0;
    return;
  }
  // `all` leaves out the long runs (a payer's data load, a 10-minute soak): they are asked for by name.
  const selected = names.includes('all') ? Object.keys(BENCHES).filter((n) => !LONG.includes(n)) : names;
  for (const name of selected) {
    const bench = BENCHES[name];
    if (!bench) {
      process.stderr.write(`unknown benchmark "${name}": choose from ${Object.keys(BENCHES).join(', ')}\n`);
      process.exitCode = 2;
      return;
    }
    process.stdout.write(`\n== ${name}\n`);
    await bench();
  }
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
