import { expect, it } from 'vitest';
import { withStores } from '../../testing/stores.js';
import { statements as clientRoles } from './004_client_roles.js';
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

  it('give existing clients the role their registration implies', async () => {
    const db = getDb();
    await db.query(`INSERT INTO projects (id, name) VALUES ('r1', 'Roles') ON CONFLICT DO NOTHING`);
    await db.query('ALTER TABLE clients DROP CONSTRAINT clients_role_check');
    await db.query('ALTER TABLE clients DROP COLUMN role');
    await db.query(`INSERT INTO clients (id, project_id, name, scope, is_admin, secret_hash, issuer, jwks, jwks_uri) VALUES
      ('super', NULL, 'super-admin', '', true, 'h', NULL, NULL, NULL),
      ('default', 'r1', 'default client', 'system/*.cruds', false, 'h', NULL, NULL, NULL),
      ('reader', 'r1', 'reader', 'system/*.read', false, 'h', NULL, NULL, NULL),
      ('inline', 'r1', 'EHR', 'system/*.cruds', false, NULL, 'https://ehr.example', '{"keys":[]}', NULL),
      ('remote', 'r1', 'EHR 2', 'system/*.cruds', false, NULL, 'https://ehr2.example', NULL, 'https://ehr2.example/k')`);
    for (const sql of clientRoles) await db.query(sql);
    const { rows } = await db.query<{ id: string; role: string; scope: string }>(
      `SELECT id, role, scope FROM clients WHERE id IN ('super', 'default', 'reader', 'inline', 'remote') ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 'default', role: 'admin', scope: 'system/*.cruds' },
      { id: 'inline', role: 'ehr', scope: 'cds-hooks' },
      { id: 'reader', role: 'admin', scope: 'system/*.read' },
      { id: 'remote', role: 'ehr', scope: 'cds-hooks' },
      { id: 'super', role: 'admin', scope: '' },
    ]);
    await expect(
      db.query(`INSERT INTO clients (id, project_id, name, role) VALUES ('bad', 'r1', 'bad', 'owner')`),
    ).rejects.toThrow();
    await db.query(`DELETE FROM clients WHERE project_id = 'r1' OR id = 'super'`);
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
