import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configDir, readConfig, resolveProfile, saveProfile } from './config.js';
import { CliError } from './errors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hookbot-config-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const profile = { baseUrl: 'https://hookbot.example.org', clientId: 'c1', clientSecret: 's1' };

describe('config store', () => {
  it('writes the file 0600 in a 0700 folder, even when the file was more open before', async () => {
    const folder = path.join(dir, 'hookbot');
    await saveProfile(folder, 'default', profile);
    expect((await stat(path.join(folder, 'config.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    await writeFile(path.join(folder, 'config.json'), '{"profiles":{}}', { mode: 0o644 });
    await saveProfile(folder, 'other', profile);
    expect((await stat(path.join(folder, 'config.json'))).mode & 0o777).toBe(0o600);
  });

  it('keeps every profile and remembers the last one logged in', async () => {
    await saveProfile(dir, 'a', profile);
    await saveProfile(dir, 'b', { ...profile, clientId: 'c2' });
    const config = await readConfig(dir);
    expect(Object.keys(config.profiles)).toEqual(['a', 'b']);
    expect(config.current).toBe('b');
    const resolved = await resolveProfile({ HOOKBOT_CONFIG_DIR: dir });
    expect(resolved).toMatchObject({ name: 'b', clientId: 'c2' });
    expect(await resolveProfile({ HOOKBOT_CONFIG_DIR: dir }, 'a')).toMatchObject({ name: 'a', clientId: 'c1' });
  });

  it('finds the folder from HOOKBOT_CONFIG_DIR, XDG_CONFIG_HOME, then HOME', () => {
    expect(configDir({ HOOKBOT_CONFIG_DIR: '/x', XDG_CONFIG_HOME: '/y', HOME: '/h' })).toBe('/x');
    expect(configDir({ XDG_CONFIG_HOME: '/y', HOME: '/h' })).toBe('/y/hookbot');
    expect(configDir({ HOME: '/h' })).toBe('/h/.config/hookbot');
  });

  it('lets HOOKBOT_* variables override a stored profile field by field', async () => {
    await saveProfile(dir, 'default', profile);
    const resolved = await resolveProfile({ HOOKBOT_CONFIG_DIR: dir, HOOKBOT_BASE_URL: 'http://ci:8080/' });
    expect(resolved).toMatchObject({ baseUrl: 'http://ci:8080', clientId: 'c1', clientSecret: 's1' });
    const keyed = await resolveProfile({ HOOKBOT_CONFIG_DIR: dir, HOOKBOT_PRIVATE_KEY_FILE: '/k.json' });
    expect(keyed.clientSecret).toBeUndefined();
    expect(keyed.privateKeyFile).toBe('/k.json');
  });

  it('works from the variables alone, with no file', async () => {
    const resolved = await resolveProfile({
      HOOKBOT_CONFIG_DIR: path.join(dir, 'missing'),
      HOOKBOT_BASE_URL: 'http://ci',
      HOOKBOT_CLIENT_ID: 'id',
      HOOKBOT_CLIENT_SECRET: 'secret',
    });
    expect(resolved).toMatchObject({ baseUrl: 'http://ci', clientId: 'id', clientSecret: 'secret' });
  });

  it.each([
    ['no profile at all', {}, undefined, /Not logged in/],
    ['an unknown --profile', {}, 'nope', /No profile named "nope"/],
    ['half the variables', { HOOKBOT_BASE_URL: 'http://ci' }, undefined, /Not logged in/],
  ])('refuses %s with an auth error (exit 3)', async (_name, vars, name, message) => {
    const error = await resolveProfile({ HOOKBOT_CONFIG_DIR: dir, ...vars }, name).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(3);
    expect((error as CliError).message).toMatch(message);
  });

  it('reports a corrupt file as an auth/config error', async () => {
    await writeFile(path.join(dir, 'config.json'), '{nope');
    await expect(readConfig(dir)).rejects.toMatchObject({ code: 'auth' });
    expect(await readFile(path.join(dir, 'config.json'), 'utf8')).toBe('{nope');
  });
});
