/**
 * Login profiles, stored in `$HOOKBOT_CONFIG_DIR`, else `$XDG_CONFIG_HOME/hookbot`, else `~/.config/hookbot`, as
 * `config.json` with mode 0600 (it holds client secrets). In CI, `HOOKBOT_BASE_URL`, `HOOKBOT_CLIENT_ID` and
 * `HOOKBOT_CLIENT_SECRET` (or `HOOKBOT_PRIVATE_KEY_FILE`) override the stored profile, field by field.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { CliError } from './errors.js';

export interface Profile {
  baseUrl: string;
  clientId: string;
  clientSecret?: string;
  /** private_key_jwt (RFC 7523): the absolute path of a JWK or PKCS#8 PEM file. */
  privateKeyFile?: string;
  keyId?: string;
  /** Mutual TLS (RFC 8705): the absolute paths of the client certificate and its private key (PEM). */
  certFile?: string;
  keyFile?: string;
}

export interface ConfigFile {
  current?: string;
  profiles: Record<string, Profile>;
}

export const DEFAULT_PROFILE = 'default';
const CONFIG_FILE = 'config.json';

export function configDir(env: NodeJS.ProcessEnv): string {
  if (env.HOOKBOT_CONFIG_DIR) return env.HOOKBOT_CONFIG_DIR;
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), '.config');
  return path.join(base, 'hookbot');
}

export async function readConfig(dir: string): Promise<ConfigFile> {
  const file = path.join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} };
    throw new CliError('auth', `Cannot read ${file}: ${(error as Error).message}`, {}, { cause: error });
  }
  try {
    const parsed = JSON.parse(text) as Partial<ConfigFile>;
    return { ...parsed, profiles: parsed.profiles ?? {} };
  } catch (error) {
    throw new CliError(
      'auth',
      `${file} is not valid JSON; fix it or delete it and run hookbot login again`,
      {},
      { cause: error },
    );
  }
}

/** Writes atomically, with the file created 0600 and the folder 0700, so a secret is never readable by others. */
async function writeConfig(dir: string, config: ConfigFile): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, CONFIG_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
  return file;
}

export async function saveProfile(dir: string, name: string, profile: Profile): Promise<string> {
  const config = await readConfig(dir);
  config.profiles[name] = profile;
  config.current = name;
  return writeConfig(dir, config);
}

/** The profile a command uses: `--profile`, else `HOOKBOT_PROFILE`, else the last one logged in, with env overrides. */
export async function resolveProfile(env: NodeJS.ProcessEnv, name?: string): Promise<Profile & { name: string }> {
  const config = await readConfig(configDir(env));
  const chosen = name ?? env.HOOKBOT_PROFILE ?? config.current ?? DEFAULT_PROFILE;
  const stored: Partial<Profile> = config.profiles[chosen] ?? {};
  if (name && !config.profiles[name] && !env.HOOKBOT_BASE_URL) {
    throw new CliError('auth', `No profile named "${name}"`, {
      lines: [
        `Known profiles: ${Object.keys(config.profiles).join(', ') || 'none'}. Run hookbot login --profile ${name}.`,
      ],
    });
  }
  const merged: Partial<Profile> = {
    ...stored,
    ...(env.HOOKBOT_BASE_URL ? { baseUrl: env.HOOKBOT_BASE_URL } : {}),
    ...(env.HOOKBOT_CLIENT_ID ? { clientId: env.HOOKBOT_CLIENT_ID } : {}),
  };
  if (env.HOOKBOT_CLIENT_SECRET) {
    merged.clientSecret = env.HOOKBOT_CLIENT_SECRET;
    delete merged.privateKeyFile;
  } else if (env.HOOKBOT_PRIVATE_KEY_FILE) {
    merged.privateKeyFile = env.HOOKBOT_PRIVATE_KEY_FILE;
    delete merged.clientSecret;
  }
  if (!merged.baseUrl || !merged.clientId || (!merged.clientSecret && !merged.privateKeyFile && !merged.certFile)) {
    throw new CliError('auth', 'Not logged in', {
      lines: [
        'Run hookbot login --base-url URL --client-id ID --client-secret SECRET,',
        'or set HOOKBOT_BASE_URL, HOOKBOT_CLIENT_ID and HOOKBOT_CLIENT_SECRET.',
      ],
    });
  }
  return { ...(merged as Profile), baseUrl: trimSlash(merged.baseUrl), name: chosen };
}

export const trimSlash = (url: string) => url.replace(/\/+$/, '');
