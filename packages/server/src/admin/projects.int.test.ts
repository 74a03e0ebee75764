import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { migrations, runMigrations } from '../infra/migrations/index.js';
import { openTestStore, withStores, STORE_KINDS } from '../testing/stores.js';
import { createProject } from './projects.js';

withStores('projects', (getDb) => {
  it('answer 409 for a name in use, also when created at once: one project per name', async () => {
    const db = getDb();
    const name = `race-${randomUUID()}`;
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => createProject(db, name)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ status: 409 });
    }
    await expect(createProject(db, name)).rejects.toMatchObject({ status: 409 });
    const { rows } = await db.query('SELECT id FROM projects WHERE name = $1', [name]);
    expect(rows).toHaveLength(1);
  });
});

for (const kind of STORE_KINDS) {
  it(`the unique-name migration renames the duplicates an earlier race left, keeping the oldest [${kind}]`, async () => {
    const store = await openTestStore(kind);
    try {
      await runMigrations(
        store.db,
        migrations.filter((m) => m.version < 6),
      );
      await store.db.query(
        `INSERT INTO projects (id, name, created_at) VALUES
         ('p-old', 'twin', '2026-01-01'), ('p-new', 'twin', '2026-01-02'), ('p-other', 'single', '2026-01-03')`,
      );
      await runMigrations(store.db);
      const { rows } = await store.db.query<{ id: string; name: string }>('SELECT id, name FROM projects ORDER BY id');
      expect(rows).toEqual([
        { id: 'p-new', name: 'twin (p-new)' },
        { id: 'p-old', name: 'twin' },
        { id: 'p-other', name: 'single' },
      ]);
      await expect(createProject(store.db, 'twin')).rejects.toMatchObject({ status: 409 });
    } finally {
      await store.close();
    }
  });
}
