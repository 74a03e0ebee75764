/**
 * What PostgreSQL cannot hold (a NUL in text or jsonb, a lone surrogate in jsonb, JSON deeper than the validators
 * can recurse) reaches the repository from bots as well as from HTTP: each is a 400 naming it, never a failed
 * statement.
 */
import { expect, it } from 'vitest';
import { HookbotError } from '../../infra/errors.js';
import { patient, testAccess } from '../../testing/fixtures.js';
import { withStores } from '../../testing/stores.js';
import { createRepository } from '../repository.js';

async function refusal(promise: Promise<unknown>): Promise<HookbotError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HookbotError);
  expect((err as HookbotError).status).toBe(400);
  return err as HookbotError;
}

function nested(depth: number): Record<string, unknown> {
  let extension: Record<string, unknown> = { url: 'http://example.org/leaf', valueString: 'x' };
  for (let i = 0; i < depth; i++) extension = { url: 'http://example.org/x', extension: [extension] };
  return extension;
}

withStores('unstorable input', (getDb) => {
  const repo = () => createRepository(getDb(), testAccess(), { baseUrl: 'http://hookbot.test' });

  it('refuses a NUL in an id, a search value or a token system', async () => {
    const r = repo();
    for (const call of [
      () => r.read('Patient', 'a\u0000b'),
      () => r.vread('Patient', 'a\u0000b', '1'),
      () => r.history('Patient', 'a\u0000b'),
      () => r.delete('Patient', 'a\u0000b'),
    ]) {
      expect((await refusal(call())).message).toMatch(/Invalid id: it contains a NUL/);
    }
    expect((await refusal(r.search('Patient', { name: 'a\u0000b' }))).message).toMatch(/"name" contains a NUL/);
    expect((await refusal(r.search('Patient', { identifier: 'http://x\u0000y|1' }))).message).toMatch(
      /"identifier" contains a NUL/,
    );
  });

  it('refuses a NUL or a lone surrogate in a resource string, naming the element', async () => {
    const r = repo();
    for (const family of ['a\u0000b', 'a\ud800', '\udc00b']) {
      const err = await refusal(r.create(patient({ name: [{ family }] })));
      expect(err.issues[0]?.expression).toEqual(['Patient.name[0].family']);
    }
    const key = await refusal(r.create(patient({ 'bad\ud800key': 1 })));
    expect(key.message).toMatch(/property name contains a lone UTF-16 surrogate/);
    expect(await r.searchResources('Patient', {})).toHaveLength(0);
  });

  it('refuses an extension nested deeper than the bound', async () => {
    const err = await refusal(repo().create(patient({ extension: [nested(100_000)] })));
    expect(err.message).toMatch(/nested deeper than 100 levels/);
  });
});
