/**
 * `npm run bench -- <store|runtime|cds|rules|pas|v8|member|all>`: each benchmark prints its own table. Benchmarks start real
 * servers and databases on this machine (PostgreSQL from HOOKBOT_TEST_PG_URL, loopback only) and stop by themselves.
 */
const BENCHES: Record<string, () => Promise<unknown>> = {
  store: async () => (await import('./store.js')).benchStore(),
  runtime: async () => (await import('./runtime.js')).benchRuntime(),
  cds: async () => (await import('./cds.js')).benchCds(),
  rules: async () => (await import('./rules.js')).benchRules(),
  pas: async () => (await import('./pas.js')).benchPas(),
  v8: async () => (await import('./v8.js')).benchV8(),
  member: async () => (await import('./member.js')).benchMember(),
};

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  if (names.length === 0 || names.includes('--help')) {
    process.stdout.write(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}|all> [...]\n`);
    process.exitCode = names.length === 0 ? 2 : 0;
    return;
  }
  const selected = names.includes('all') ? Object.keys(BENCHES) : names;
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
