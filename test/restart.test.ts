import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pgliteFromTemplate } from '@hookbot/server/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import { startTestServer } from './support/server.js';

describe('a restart on the same data folder (PGlite)', () => {
  let dataDir: string;
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it('keeps the signing key, the data and the demo project, and writes credential files 0600', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'hookbot-restart-'));
    await pgliteFromTemplate(dataDir);
    const first = await startTestServer({ store: 'pglite', dataDir });
    const token = await getToken(first.url, first.demo.clientId, first.demo.clientSecret);
    const created = await request<{ id: string }>(`${first.url}/fhir/R4/Patient`, {
      method: 'POST',
      token,
      json: { resourceType: 'Patient', name: [{ family: 'Persistent' }] },
    });
    expect(created.status).toBe(201);
    expect((await stat(path.join(dataDir, 'demo-credentials.json'))).mode & 0o777).toBe(0o600);
    await first.stop();

    const second = await startTestServer({
      store: 'pglite',
      dataDir,
      env: { PORT: new URL(first.url).port, BASE_URL: first.url },
    });
    try {
      expect(second.demo).toEqual(first.demo);
      const read = await request<{ name: { family: string }[] }>(`${second.url}/fhir/R4/Patient/${created.body.id}`, {
        token,
      });
      expect(read.status).toBe(200);
      expect(read.body.name[0]?.family).toBe('Persistent');
      const admin = await getToken(second.url, second.admin.clientId, second.admin.clientSecret);
      const projects = await request<{ projects: { name: string }[] }>(`${second.url}/admin/projects`, {
        token: admin,
      });
      expect(projects.body.projects.filter((p) => p.name === 'demo')).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });
});
