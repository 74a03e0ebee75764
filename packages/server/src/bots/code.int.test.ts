import type { Binary, Bot } from '@medplum/fhirtypes';
import { expect, it } from 'vitest';
import { createRepository } from '../fhir/repository.js';
import { bot, testAccess } from '../testing/fixtures.js';
import { withStores } from '../testing/stores.js';
import { loadBotCode, storeCodeBinary } from './code.js';

withStores('bot code', (getDb) => {
  it('runs what the Binary holds now, after the Binary was updated in place under the same id', async () => {
    const repo = createRepository(getDb(), testAccess());
    const executableCode = await storeCodeBinary(repo, 'exports.handler = () => "old";', 'application/javascript');
    const deployed = await repo.create<Bot>({ ...bot('code-cache'), executableCode });
    const first = await loadBotCode(repo, deployed);
    expect(first.code).toContain('"old"');
    const id = executableCode.url?.split('/')[1] as string;
    const binary = await repo.read<Binary>('Binary', id);
    await repo.update<Binary>({ ...binary, data: Buffer.from('exports.handler = () => "new";').toString('base64') });
    const second = await loadBotCode(repo, deployed);
    expect(second.code).toContain('"new"');
    expect(second.version).not.toBe(first.version);
  });
});
