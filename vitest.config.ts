import { defineConfig } from 'vitest/config';

/** Files that bound a latency under attack (a health check within 1 s): they run after the rest, one at a time. */
const ALONE = ['test/tenant-fairness.test.ts', 'test/rules.test.ts'];

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources in tests (the `hookbot-source` export condition), and
  // dependencies as Node resolves them in production: not Vite's `module` condition, which picks builds meant for
  // bundlers (OpenTelemetry's have relative imports without extensions, which Node's loader refuses).
  resolve: { conditions: ['hookbot-source', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['hookbot-source', 'node', 'development|production'] } },
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Vitest's default on 2 cores is one file at a time; the end-to-end files mostly wait on PGlite's thread, bot
    // worker processes and sockets, so two at a time use the machine instead of leaving a core idle.
    maxWorkers: 2,
    execArgv: ['--no-node-snapshot'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...ALONE],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
