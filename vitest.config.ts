import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['hookbot-source', 'module', 'node', 'import', 'default'] },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
