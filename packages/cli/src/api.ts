/**
 * The HTTP client for a Hookbot server. Every failure becomes a CliError carrying the server's diagnostics and
 * its request id: FHIR OperationOutcome (`issue[].diagnostics`, `extension[url$=request-id]`) or RFC 6749 §5.2
 * `{error, error_description}`.
 */
import { CliError, type CliErrorCode } from './errors.js';
import { loadSigningKey, signJwt } from './keys.js';
import type { Profile } from './config.js';

export type Fetch = typeof fetch;

export interface ApiResponse<T> {
  status: number;
  body: T;
  contentType: string;
  requestId?: string;
  /** The `ETag` header (a write's new version, `W/"n"`). */
  etag?: string;
}

export interface RequestOptions {
  json?: unknown;
  body?: string;
  contentType?: string;
  query?: Record<string, string | number | undefined>;
  /** `false` sends no Authorization header; a string is used as the bearer token as is. */
  auth?: boolean | string;
}

/** What the server says about itself at `/.well-known/smart-configuration`. */
export interface ServerMetadata {
  /** The server's BASE_URL: the JWT audiences it accepts are built on it, whatever address we reach it by. */
  issuer?: string;
  tokenEndpoint?: string;
}

export class HookbotApi {
  private accessToken?: Promise<string>;
  private serverMetadata?: Promise<ServerMetadata>;

  /** `fetchImpl`: tests' own; otherwise global fetch, or one presenting the profile's client certificate. */
  constructor(
    readonly profile: Profile,
    private readonly fetchImpl?: Fetch,
  ) {}

  private fetcher?: Promise<Fetch>;

  private fetchFor(): Promise<Fetch> {
    this.fetcher ??= (async () => {
      if (this.fetchImpl) return this.fetchImpl;
      const { certFile, keyFile } = this.profile;
      if (!certFile || !keyFile) return fetch;
      return (await import('./mtls.js')).mtlsFetch(certFile, keyFile);
    })();
    return this.fetcher;
  }

  url(path: string, query?: RequestOptions['query']): string {
    const url = new URL(this.profile.baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.href;
  }

  /**
   * The server's SMART configuration, read once. The server checks a JWT's `aud` against its own BASE_URL, which
   * may name it differently from the address we were given (`localhost` or `127.0.0.1`, a proxy's name).
   */
  metadata(): Promise<ServerMetadata> {
    this.serverMetadata ??= this.fetchMetadata();
    return this.serverMetadata;
  }

  private async fetchMetadata(): Promise<ServerMetadata> {
    let body: { issuer?: unknown; token_endpoint?: unknown };
    try {
      body = (await this.send<typeof body>('GET', '/.well-known/smart-configuration', { auth: false })).body;
    } catch (error) {
      if (error instanceof CliError && error.code === 'network') throw error;
      return {};
    }
    return {
      ...(typeof body?.issuer === 'string' ? { issuer: body.issuer.replace(/\/+$/, '') } : {}),
      ...(typeof body?.token_endpoint === 'string' ? { tokenEndpoint: body.token_endpoint } : {}),
    };
  }

  /** The `aud` of a JWT for a call to `path`: the URL as the server names it (see `metadata`). */
  async audience(path: string): Promise<string> {
    const { issuer } = await this.metadata();
    return issuer ? new URL(issuer + path).href : this.url(path);
  }

  /**
   * OAuth 2.0 client credentials (RFC 6749 §4.4), with a secret, a signed assertion (RFC 7523 §2.2), or only the
   * client id over mutual TLS (RFC 8705: the connection's certificate authenticates, and the token is bound to it).
   */
  token(): Promise<string> {
    this.accessToken ??= this.fetchToken();
    return this.accessToken;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.profile.clientId });
    if (this.profile.privateKeyFile) {
      const key = await loadSigningKey(this.profile.privateKeyFile);
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      form.set(
        'client_assertion',
        await signJwt(
          key,
          {
            iss: this.profile.clientId,
            sub: this.profile.clientId,
            aud: (await this.metadata()).tokenEndpoint ?? this.url('/oauth2/token'),
          },
          this.profile.keyId ? { kid: this.profile.keyId } : {},
        ),
      );
    } else if (this.profile.clientSecret !== undefined || !this.profile.certFile) {
      form.set('client_secret', this.profile.clientSecret ?? '');
    }
    const res = await this.send<{ access_token?: string }>('POST', '/oauth2/token', {
      body: form.toString(),
      contentType: 'application/x-www-form-urlencoded',
      auth: false,
    });
    if (!res.body.access_token) throw new CliError('network', 'The token endpoint answered without an access_token');
    return res.body.access_token;
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    return this.send<T>(method, path, options);
  }

  private async send<T>(method: string, path: string, options: RequestOptions): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['Content-Type'] = 'application/json';
    }
    if (options.contentType) headers['Content-Type'] = options.contentType;
    const auth = options.auth ?? true;
    if (auth !== false) headers.Authorization = `Bearer ${typeof auth === 'string' ? auth : await this.token()}`;

    const url = this.url(path, options.query);
    let response: Response;
    try {
      const fetchImpl = await this.fetchFor();
      response = await fetchImpl(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError('network', `Cannot reach ${this.profile.baseUrl} (${reason})`, {}, { cause: error });
    }
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    let parsed: unknown = text;
    if (/json/i.test(contentType) || /^\s*[[{]/.test(text)) {
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON after all: keep the text
      }
    }
    const requestId = response.headers.get('x-request-id') ?? outcomeExtension(parsed, 'request-id');
    if (!response.ok) throw errorFromResponse(method, path, response.status, parsed, requestId);
    const etag = response.headers.get('etag');
    return {
      status: response.status,
      body: parsed as T,
      contentType,
      ...(requestId ? { requestId } : {}),
      ...(etag ? { etag } : {}),
    };
  }
}

interface OperationOutcomeLike {
  resourceType?: string;
  issue?: {
    severity?: string;
    code?: string;
    diagnostics?: string;
    details?: { text?: string };
    expression?: string[];
  }[];
  extension?: { url?: string; valueString?: string }[];
  error?: string;
  error_description?: string;
}

function outcomeExtension(body: unknown, suffix: string): string | undefined {
  const extensions = (body as OperationOutcomeLike | undefined)?.extension;
  if (!Array.isArray(extensions)) return undefined;
  return extensions.find((e) => typeof e.url === 'string' && e.url.endsWith(suffix))?.valueString;
}

/** The server's own words: every OperationOutcome issue, or the OAuth error and its description. */
function diagnosticsOf(body: unknown): string[] {
  if (typeof body === 'string') return body.trim() ? [body.trim().slice(0, 500)] : [];
  const value = body as OperationOutcomeLike | undefined;
  if (!value || typeof value !== 'object') return [];
  if (typeof value.error === 'string') {
    return [value.error_description ? `${value.error}: ${value.error_description}` : value.error];
  }
  return (value.issue ?? []).map((issue) => {
    const text = issue.diagnostics ?? issue.details?.text ?? issue.code ?? 'error';
    const where = issue.expression?.length ? ` (at ${issue.expression.join(', ')})` : '';
    return `${text}${where}`;
  });
}

function errorFromResponse(
  method: string,
  path: string,
  status: number,
  body: unknown,
  requestId: string | undefined,
): CliError {
  const code: CliErrorCode = status === 401 || status === 403 ? 'auth' : 'failed';
  const lines = diagnosticsOf(body);
  const hint =
    status === 401 && path === '/oauth2/token'
      ? ['Check the client id and secret (hookbot login), or the HOOKBOT_CLIENT_* variables.']
      : [];
  return new CliError(code, `${method} ${path.split('?')[0]} failed: HTTP ${status}`, {
    status,
    lines: [...lines, ...hint],
    data: body,
    ...(requestId ? { requestId } : {}),
  });
}
