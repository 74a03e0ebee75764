import type { RuntimeStats } from '@hookbot/runtime';
import { describe, expect, it } from 'vitest';
import { notReadyBecause, type ReadinessSources } from './readiness.js';

function sources(overrides: { stats?: Partial<RuntimeStats>; query?: () => Promise<unknown>; migrating?: boolean }) {
  const stats = { healthy: true, restarting: false, ...overrides.stats } as RuntimeStats;
  return {
    db: { query: overrides.query ?? (() => Promise.resolve({ rows: [] })) },
    runtime: { stats: () => stats },
    lifecycle: { migrating: overrides.migrating ?? false },
    timeoutMs: 20,
  } as ReadinessSources;
}

describe('notReadyBecause', () => {
  it('is ready when nothing migrates, the sandbox serves and the database answers', async () => {
    expect(await notReadyBecause(sources({}))).toBeUndefined();
  });

  it('is not ready while migrations run, whatever else holds', async () => {
    expect(await notReadyBecause(sources({ migrating: true }))).toMatch(/migrations/);
  });

  it('is not ready while the sandbox worker is restarting or unhealthy', async () => {
    expect(await notReadyBecause(sources({ stats: { restarting: true } }))).toMatch(/sandbox/);
    expect(await notReadyBecause(sources({ stats: { healthy: false } }))).toMatch(/sandbox/);
  });

  it('is not ready when the database fails or does not answer within the timeout', async () => {
    expect(await notReadyBecause(sources({ query: () => Promise.reject(new Error('gone')) }))).toMatch(/database/);
    expect(await notReadyBecause(sources({ query: () => new Promise(() => undefined) }))).toMatch(/in time/);
  });
});
