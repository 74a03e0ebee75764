/** Export jobs in their table: the per-project bound, leases, a cancelled job's chunk, expiry. */
import { beforeAll, expect, it } from 'vitest';
import { HookbotError } from '../../infra/errors.js';
import { patient, testAccess } from '../../testing/fixtures.js';
import { withStores } from '../../testing/stores.js';
import { createRepository, type Repository } from '../repository.js';
import { runChunk } from './chunk.js';
import { claimJob, createJob, deleteJob, findJob, jobFiles, removeExpired, type NewJob } from './jobs.js';

withStores('export jobs', (getDb) => {
  let repo: Repository;
  let job: NewJob;
  const owner = () => ({ projectId: repo.access.projectId, clientId: 'c1' });

  beforeAll(async () => {
    repo = createRepository(getDb(), testAccess());
    for (let i = 0; i < 3; i++) await repo.create(patient({ name: [{ family: `Export${i}` }] }));
    job = { ...owner(), requestUrl: 'test', spec: { level: 'system', types: ['Patient'] } };
  });

  const claimOurs = async () => {
    for (;;) {
      const claimed = await claimJob(getDb());
      if (!claimed || claimed.projectId === repo.access.projectId) return claimed;
    }
  };

  it('bounds the jobs a project may have queued or running at once (429)', async () => {
    const first = await createJob(getDb(), job, 1);
    const err = await createJob(getDb(), job, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HookbotError);
    expect((err as HookbotError).status).toBe(429);
    expect((err as HookbotError).headers['Retry-After']).toBeDefined();
    // Another project is not counted.
    await createJob(getDb(), { ...job, projectId: testAccess().projectId }, 1);
    expect(await deleteJob(getDb(), owner(), first.id)).toBe(true);
  });

  it('runs a job chunk by chunk to completion, each file one chunk; another client finds nothing', async () => {
    const queued = await createJob(getDb(), job, 1);
    let result;
    do {
      const claimed = await claimOurs();
      expect(claimed?.id).toBe(queued.id);
      // While claimed, nobody else gets it.
      if (claimed) {
        expect((await claimOurs())?.id).toBeUndefined();
        result = await runChunk(getDb(), claimed, 2, 3600);
      }
    } while (result === 'more');
    expect(result).toBe('completed');
    const done = await findJob(getDb(), owner(), queued.id);
    expect(done).toMatchObject({ status: 'completed', exported: 3 });
    expect((await jobFiles(getDb(), done!)).map((f) => f.count)).toEqual([2, 1]);
    expect(await findJob(getDb(), { ...owner(), clientId: 'c2' }, queued.id)).toBeUndefined();
    expect(await deleteJob(getDb(), { ...owner(), clientId: 'c2' }, queued.id)).toBe(false);
    expect(await deleteJob(getDb(), owner(), queued.id)).toBe(true);
  });

  it('keeps nothing of a chunk whose job was cancelled while it ran', async () => {
    const queued = await createJob(getDb(), job, 1);
    const claimed = await claimOurs();
    expect(claimed?.id).toBe(queued.id);
    await deleteJob(getDb(), owner(), queued.id);
    expect(await runChunk(getDb(), claimed!, 2, 3600)).toBe('lost');
    const { rows } = await getDb().query('SELECT 1 FROM export_files WHERE job_id = $1', [queued.id]);
    expect(rows).toEqual([]);
  });

  it('forgets finished jobs once they expire', async () => {
    const queued = await createJob(getDb(), job, 1);
    await getDb().query(
      `UPDATE export_jobs SET status = 'completed', expires_at = now() - interval '1 second' WHERE id = $1`,
      [queued.id],
    );
    expect(await findJob(getDb(), owner(), queued.id)).toBeUndefined();
    expect(await removeExpired(getDb())).toBeGreaterThanOrEqual(1);
    const { rows } = await getDb().query('SELECT 1 FROM export_jobs WHERE id = $1', [queued.id]);
    expect(rows).toEqual([]);
  });
});
