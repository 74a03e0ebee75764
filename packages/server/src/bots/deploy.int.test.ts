import type { Bot } from '@medplum/fhirtypes';
import { expect, it } from 'vitest';
import { createRepository } from '../fhir/repository.js';
import { bot, testAccess } from '../testing/fixtures.js';
import { fakeServices } from '../testing/services.js';
import { withStores } from '../testing/stores.js';
import { deployBot } from './deploy.js';

withStores('Bot/$deploy', (getDb) => {
  it('answers 412 and keeps an edit made while the code compiled, instead of overwriting it', async () => {
    const repo = createRepository(getDb(), testAccess());
    const created = await repo.create<Bot>(bot('deploy-race', 'patient-view'));
    // The edit lands between deploy's read and its update: while the runtime checks the code.
    const services = fakeServices(getDb(), {
      check: async () => {
        await repo.update<Bot>({ ...created, description: 'edited meanwhile' });
        return { ok: true };
      },
    });
    await expect(
      deployBot(services, repo, created.id ?? '', { code: 'exports.handler = () => 1;' }),
    ).rejects.toMatchObject({ status: 412 });
    const current = await repo.read<Bot>('Bot', created.id ?? '');
    expect(current.description).toBe('edited meanwhile');
    expect(current.executableCode).toBeUndefined();
    expect(current.meta?.versionId).toBe('2');
  });

  it('deploys as a new version when nothing changed the Bot meanwhile', async () => {
    const repo = createRepository(getDb(), testAccess());
    const created = await repo.create<Bot>(bot('deploy-plain', 'patient-view'));
    const deployed = await deployBot(fakeServices(getDb()), repo, created.id ?? '', {
      code: 'exports.handler = () => 1;',
    });
    expect(deployed.meta?.versionId).toBe('2');
    expect(deployed.executableCode?.url).toMatch(/^Binary\//);
  });
});
