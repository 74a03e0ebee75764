import type { Bot } from '@medplum/fhirtypes';
import { expect, it } from 'vitest';
import { createRepository, type Repository } from '../fhir/repository.js';
import { bot, testAccess } from '../testing/fixtures.js';
import { withStores } from '../testing/stores.js';
import { rollbackBot } from './rollback.js';

withStores('Bot/$rollback', (getDb) => {
  it('answers 412 and keeps an edit made after it read the Bot, instead of replacing it', async () => {
    const repo = createRepository(getDb(), testAccess());
    const created = await repo.create<Bot>(bot('rollback-race', 'patient-view'));
    await repo.update<Bot>({ ...created, description: 'second' });
    // The edit lands between rollback's read of the current version and its update.
    const interleaved: Repository = {
      ...repo,
      vread: async <T extends Bot>(type: string, id: string, version: string) => {
        const target = await repo.vread<T>(type, id, version);
        await repo.update<Bot>({ ...(await repo.read<Bot>('Bot', id)), description: 'edited meanwhile' });
        return target;
      },
    } as Repository;
    await expect(rollbackBot(interleaved, created.id ?? '', { version: '1' })).rejects.toMatchObject({ status: 412 });
    const current = await repo.read<Bot>('Bot', created.id ?? '');
    expect(current.description).toBe('edited meanwhile');
    expect(current.meta?.versionId).toBe('3');
    expect((await rollbackBot(repo, created.id ?? '', { version: '1' })).meta?.versionId).toBe('4');
  });
});
