/**
 * Talking to `/cds-services` as an EHR would: with the Hookbot bearer token of the profile, or, with `--key`,
 * a CDS Hooks client JWT (CDS Hooks 2.0 "Trusting CDS Clients") whose `aud` is the exact URL called as the server
 * names it (its SMART configuration's issuer: the server may know itself by another address), freshly
 * signed for every request since each carries its own `jti`.
 */
import { HookbotApi, type ApiResponse, type RequestOptions } from '../api.js';
import { resolveProfile, trimSlash } from '../config.js';
import { connect, type CommandContext } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { loadSigningKey, signJwt, type SigningKey } from '../keys.js';

export interface HooksAuthOptions {
  /** A JWK or PEM private key file: sign a CDS client JWT instead of using the profile's token. */
  key?: string;
  issuer?: string;
  kid?: string;
  jku?: string;
  /** With --key, the server to call when no profile is stored. */
  baseUrl?: string;
}

export interface CdsServiceEntry {
  id: string;
  hook: string;
  title?: string;
  description?: string;
  prefetch?: Record<string, string>;
  usageRequirements?: string;
}

export class HooksClient {
  private constructor(
    private readonly api: HookbotApi,
    private readonly signing?: { key: SigningKey; issuer: string; kid?: string; jku?: string },
  ) {}

  static async open(ctx: CommandContext & HooksAuthOptions): Promise<HooksClient> {
    if (!ctx.key) {
      if (ctx.issuer || ctx.kid || ctx.jku) throw usageError('--issuer, --kid and --jku only go with --key');
      return new HooksClient(await connect(ctx));
    }
    if (!ctx.issuer) throw usageError('--key needs --issuer (the iss the EHR client is registered with)');
    const baseUrl = ctx.baseUrl ?? ctx.env.HOOKBOT_BASE_URL ?? (await storedBaseUrl(ctx));
    if (!baseUrl) throw new CliError('auth', 'No server to call: give --base-url or log in first');
    const key = await loadSigningKey(ctx.key);
    const api = new HookbotApi({ baseUrl: trimSlash(baseUrl), clientId: ctx.issuer }, ctx.fetch);
    return new HooksClient(api, {
      key,
      issuer: ctx.issuer,
      ...(ctx.kid ? { kid: ctx.kid } : {}),
      ...(ctx.jku ? { jku: ctx.jku } : {}),
    });
  }

  get baseUrl(): string {
    return this.api.profile.baseUrl;
  }

  async call<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    if (!this.signing) return this.api.request<T>(method, path, options);
    const { key, issuer, kid, jku } = this.signing;
    const jwt = await signJwt(
      key,
      { iss: issuer, aud: await this.api.audience(path) },
      { ...(kid ? { kid } : {}), ...(jku ? { jku } : {}) },
    );
    return this.api.request<T>(method, path, { ...options, auth: jwt });
  }

  async discover(): Promise<CdsServiceEntry[]> {
    const { body } = await this.call<{ services?: CdsServiceEntry[] }>('GET', '/cds-services');
    return Array.isArray(body.services) ? body.services : [];
  }
}

async function storedBaseUrl(ctx: CommandContext): Promise<string | undefined> {
  try {
    return (await resolveProfile(ctx.env, ctx.profile)).baseUrl;
  } catch {
    return undefined;
  }
}
