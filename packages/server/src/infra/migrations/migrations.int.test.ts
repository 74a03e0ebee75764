import { expect, it } from 'vitest';
import { withStores } from '../../testing/stores.js';
import { migrations, runMigrations } from './index.js';

withStores('migrations', (getDb, kind) => {
  it('are idempotent: a second run applies nothing and keeps the data', async () => {
    const db = getDb();
    await db.query(`INSERT INTO projects (id, name) VALUES ('m1', 'Migration test')`);
    expect(await runMigrations(db)).toEqual([]);
    const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => Number(r.version))).toEqual(migrations.map((m) => m.version));
    expect((await db.query('SELECT id FROM projects WHERE id = $1', ['m1'])).rows).toHaveLength(1);
  });

  it('creates the auth tables the server needs', async () => {
    const db = getDb();
    await db.query(`INSERT INTO clients (id, project_id, name, scope) VALUES ('c1', 'm1', 'client', 'system/*.read')`);
    await db.query(
      `INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk) VALUES ('k1', 'ES256', '{}'::jsonb, '{}'::jsonb)`,
    );
    const { rows } = await db.query<{ is_admin: boolean; secrets: unknown }>(
      'SELECT c.is_admin, p.secrets FROM clients c JOIN projects p ON p.id = c.project_id WHERE c.id = $1',
      ['c1'],
    );
    expect(rows).toEqual([{ is_admin: false, secrets: [] }]);
  });

  it('apply a new version once even when runs start together', async () => {
    const db = getDb();
    const extra = { version: 9_999, name: `test-${kind}`, statements: ['CREATE TABLE migration_probe (x int)'] };
    const list = [...migrations, extra];
    const results = await Promise.all([runMigrations(db, list), runMigrations(db, list), runMigrations(db, list)]);
    expect(results.flat()).toEqual([9_999]);
    await db.query('DROP TABLE migration_probe');
    await db.query('DELETE FROM schema_migrations WHERE version = 9999');
  });
});
