import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getCallback, saveCallback } from '../deliveries/store.js';
import { withStores } from '../testing/stores.js';
import { createProject } from './projects.js';
import { resealSecrets } from './reseal-secrets.js';
import { loadSecretsKey } from './secrets-key.js';
import { getProjectSettings, setProjectSettings } from './settings.js';

const OLD = Buffer.alloc(32, 3).toString('base64url');
const NEW = Buffer.alloc(32, 4).toString('base64url');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hookbot-reseal-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

withStores('resealing secrets', (getDb) => {
  it('seal again what the old key sealed, after which the new key alone opens everything', async () => {
    const db = getDb();
    const oldKey = await loadSecretsKey({ fromEnv: OLD, dataDir: dir });
    const project = await createProject(db, `reseal-${randomUUID()}`);
    const secrets = [{ name: 'API_KEY', value: 's3cr3t' }];
    await setProjectSettings(db, oldKey, project.id, { secrets });
    await saveCallback(db, {
      projectId: project.id,
      clientId: 'partner-1',
      url: 'https://partner.example.org/callback',
      tokenUrl: 'https://partner.example.org/token',
      oauthClientId: 'hookbot',
      oauthClientSecret: await oldKey.seal(project.id, 'callback-secret'),
      scope: null,
    });

    const rotating = await loadSecretsKey({ fromEnv: NEW, accepted: [OLD], dataDir: dir });
    const first = await resealSecrets(db, rotating);
    expect(first.resealed).toBeGreaterThanOrEqual(2);
    expect(first.unreadable.projects).not.toContain(project.id);
    // Nothing is left for a second pass, on this instance or another.
    expect((await resealSecrets(db, rotating)).resealed).toBe(0);

    const newOnly = await loadSecretsKey({ fromEnv: NEW, dataDir: dir });
    expect((await getProjectSettings(db, newOnly, project.id)).secrets).toEqual(secrets);
    const callback = await getCallback(db, project.id, 'partner-1');
    expect(await newOnly.open(project.id, callback?.oauthClientSecret ?? '')).toBe('callback-secret');
  });

  it('leave alone, and report, what no key it holds opens', async () => {
    const db = getDb();
    const stranger = await loadSecretsKey({ fromEnv: Buffer.alloc(32, 9).toString('base64url'), dataDir: dir });
    const project = await createProject(db, `unreadable-${randomUUID()}`);
    await setProjectSettings(db, stranger, project.id, { secrets: [{ name: 'X', value: 'y' }] });
    const before = await db.query<{ secrets: unknown }>('SELECT secrets FROM projects WHERE id = $1', [project.id]);
    const report = await resealSecrets(db, await loadSecretsKey({ fromEnv: NEW, accepted: [OLD], dataDir: dir }));
    expect(report.unreadable.projects).toContain(project.id);
    const after = await db.query<{ secrets: unknown }>('SELECT secrets FROM projects WHERE id = $1', [project.id]);
    expect(after.rows[0]?.secrets).toEqual(before.rows[0]?.secrets);
  });
});
