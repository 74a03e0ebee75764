/**
 * Per-project settings: the base URLs the project's services may call although they are http or private
 * (the SSRF guard's allow-list), its own rate limits (`infra/rate-limit.ts`, each bounded by `RATE_LIMIT_MAXIMA`),
 * and the secrets its bots read as `event.secrets`, stored encrypted (see
 * secrets-key.ts). Secrets written before encryption existed (a plain array) are read as they are and encrypted on
 * the next write.
 */
import { badRequest, HookbotError } from '../infra/errors.js';
import type { Database } from '../infra/database.js';
import { RATE_LIMIT_MAXIMA, type ProjectRateLimits } from '../infra/rate-limit.js';
import type { SecretsKey } from './secrets-key.js';

const invalid = (message: string, field?: string) => badRequest('admin.invalid-request', message, field);

interface ProjectSecret {
  name: string;
  value: string;
}

export interface ProjectSettings {
  allowedBaseUrls?: string[];
  secrets?: ProjectSecret[];
  rateLimits?: ProjectRateLimits;
}

/** `{perClient?, tokenPerClient?, windowSeconds?}`, each a whole number from 1 to its maximum; `{}` clears them. */
function checkRateLimits(input: unknown): ProjectRateLimits {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('"rateLimits" must be an object', 'rateLimits');
  }
  const out: ProjectRateLimits = {};
  for (const [name, value] of Object.entries(input)) {
    const max = RATE_LIMIT_MAXIMA[name as keyof ProjectRateLimits];
    const field = `rateLimits.${name}`;
    if (max === undefined)
      throw invalid(`${field} is not a rate limit: use perClient, tokenPerClient or windowSeconds`, field);
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
      throw invalid(`${field} must be a whole number from 1 to ${max}`, field);
    }
    out[name as keyof ProjectRateLimits] = value as number;
  }
  return out;
}

export function checkProjectSettings(input: unknown): ProjectSettings {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw invalid('Settings must be a JSON object');
  const { allowedBaseUrls, secrets, rateLimits } = input as Record<string, unknown>;
  // An empty body (read as `{}`) or a misspelt field would otherwise answer 200 and change nothing.
  if (allowedBaseUrls === undefined && secrets === undefined && rateLimits === undefined)
    throw invalid('Settings must give "allowedBaseUrls", "secrets", "rateLimits" or several');
  const out: ProjectSettings = {};
  if (rateLimits !== undefined) out.rateLimits = checkRateLimits(rateLimits);
  if (allowedBaseUrls !== undefined) {
    if (!Array.isArray(allowedBaseUrls)) throw invalid('"allowedBaseUrls" must be an array of URLs', 'allowedBaseUrls');
    allowedBaseUrls.forEach((u, i) => {
      if (typeof u !== 'string' || !URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol)) {
        throw invalid(`allowedBaseUrls[${i}] must be an absolute http(s) URL`, `allowedBaseUrls[${i}]`);
      }
    });
    out.allowedBaseUrls = (allowedBaseUrls as string[]).map((u) => u.replace(/\/+$/, ''));
  }
  if (secrets !== undefined) {
    if (!Array.isArray(secrets)) throw invalid('"secrets" must be an array of {name, value}', 'secrets');
    const names = new Set<string>();
    out.secrets = secrets.map((s: unknown, i) => {
      const { name, value } = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
      if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(name)) {
        throw invalid(`secrets[${i}].name must be an identifier`, `secrets[${i}].name`);
      }
      if (typeof value !== 'string') throw invalid(`secrets[${i}].value must be a string`, `secrets[${i}].value`);
      if (names.has(name)) throw invalid(`secrets[${i}].name "${name}" is repeated`, `secrets[${i}].name`);
      names.add(name);
      return { name, value };
    });
  }
  return out;
}

export async function setProjectSettings(
  db: Database,
  key: SecretsKey,
  projectId: string,
  settings: ProjectSettings,
): Promise<void> {
  for (const field of ['allowedBaseUrls', 'rateLimits'] as const) {
    if (!settings[field]) continue;
    await db.query(`UPDATE projects SET settings = jsonb_set(settings, $3::text[], $2::jsonb) WHERE id = $1`, [
      projectId,
      JSON.stringify(settings[field]),
      [field],
    ]);
  }
  if (settings.secrets) {
    const sealed = await key.seal(projectId, JSON.stringify(settings.secrets));
    await db.query('UPDATE projects SET secrets = $2::jsonb WHERE id = $1', [projectId, JSON.stringify(sealed)]);
  }
}

export async function getProjectSettings(
  db: Database,
  key: SecretsKey,
  projectId: string,
): Promise<Required<ProjectSettings>> {
  const row = (
    await db.query<{
      settings: { allowedBaseUrls?: string[]; rateLimits?: ProjectRateLimits } | null;
      secrets: ProjectSecret[] | string | null;
    }>('SELECT settings, secrets FROM projects WHERE id = $1', [projectId])
  ).rows[0];
  return {
    allowedBaseUrls: row?.settings?.allowedBaseUrls ?? [],
    rateLimits: row?.settings?.rateLimits ?? {},
    secrets: await openSecrets(key, projectId, row?.secrets),
  };
}

async function openSecrets(
  key: SecretsKey,
  projectId: string,
  stored: ProjectSecret[] | string | null | undefined,
): Promise<ProjectSecret[]> {
  if (typeof stored !== 'string') return stored ?? [];
  try {
    return JSON.parse(await key.open(projectId, stored)) as ProjectSecret[];
  } catch {
    throw new HookbotError(
      'admin.secrets-unreadable',
      "The project's secrets cannot be decrypted with this server's secrets key (HOOKBOT_SECRETS_KEY)",
    );
  }
}

/** What the admin API shows of settings: secret names, never values. */
export function describeSettings(settings: ProjectSettings): Record<string, unknown> {
  return {
    ...(settings.allowedBaseUrls ? { allowedBaseUrls: settings.allowedBaseUrls } : {}),
    ...(settings.rateLimits ? { rateLimits: settings.rateLimits } : {}),
    ...(settings.secrets ? { secrets: settings.secrets.map(({ name }) => ({ name })) } : {}),
  };
}
