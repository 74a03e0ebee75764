/**
 * `hookbot login`: checks the credentials against the server (token, then GET /auth/me) and only then stores
 * them as a profile. Takes flags, falling back to the HOOKBOT_* variables.
 */
import path from 'node:path';
import { HookbotApi } from '../api.js';
import { configDir, DEFAULT_PROFILE, saveProfile, trimSlash, type Profile } from '../config.js';
import type { CommandContext } from '../context.js';
import { usageError } from '../errors.js';

export interface LoginOptions {
  baseUrl?: string;
  clientId?: string;
  clientSecret?: string;
  privateKey?: string;
  keyId?: string;
  /** Mutual TLS: the client certificate and its key (PEM files). */
  cert?: string;
  key?: string;
}

export interface Me {
  clientId: string;
  projectId?: string;
  scope: string;
  admin: boolean;
}

export async function login(input: CommandContext & LoginOptions): Promise<void> {
  const { env, out } = input;
  const baseUrl = input.baseUrl ?? env.HOOKBOT_BASE_URL;
  const clientId = input.clientId ?? env.HOOKBOT_CLIENT_ID;
  const clientSecret = input.clientSecret ?? (input.privateKey || input.cert ? undefined : env.HOOKBOT_CLIENT_SECRET);
  if (!baseUrl) throw usageError('--base-url is required (or HOOKBOT_BASE_URL)');
  if (!clientId) throw usageError('--client-id is required (or HOOKBOT_CLIENT_ID)');
  if (Boolean(input.cert) !== Boolean(input.key)) throw usageError('Give --cert and --key together');
  const methods = [clientSecret, input.privateKey, input.cert].filter(Boolean).length;
  if (methods === 0) throw usageError('Give --client-secret, --private-key, or --cert and --key');
  if (methods > 1) throw usageError('Give one of --client-secret, --private-key or --cert, not several');
  try {
    new URL(baseUrl);
  } catch {
    throw usageError(`--base-url is not a URL: ${baseUrl}`);
  }

  const profile: Profile = {
    baseUrl: trimSlash(baseUrl),
    clientId,
    ...(clientSecret ? { clientSecret } : {}),
    ...(input.privateKey ? { privateKeyFile: path.resolve(input.cwd, input.privateKey) } : {}),
    ...(input.keyId ? { keyId: input.keyId } : {}),
    ...(input.cert && input.key
      ? { certFile: path.resolve(input.cwd, input.cert), keyFile: path.resolve(input.cwd, input.key) }
      : {}),
  };
  const api = new HookbotApi(profile, input.fetch);
  const me = await out.step(`Signing in to ${profile.baseUrl}`, async () => {
    await api.token();
    return (await api.request<Me>('GET', '/auth/me')).body;
  });
  const name = input.profile ?? DEFAULT_PROFILE;
  const file = await saveProfile(configDir(env), name, profile);
  out.result({ profile: name, baseUrl: profile.baseUrl, ...me, configFile: file }, () =>
    [
      `${out.style.green('✓')} Logged in to ${profile.baseUrl} as ${me.clientId}${me.admin ? ' (super-admin)' : ''}`,
      me.projectId ? `  project ${me.projectId}` : undefined,
      `  profile "${name}" saved to ${file}`,
    ]
      .filter(Boolean)
      .join('\n'),
  );
}
