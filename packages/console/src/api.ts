/**
 * The console's only way to the server: the documented HTTP API with the session cookie (sent by the browser) and
 * the CSRF token on every write. Errors are FHIR OperationOutcomes: their issues come back as `ApiError.issues`.
 */

export interface SessionUser {
  id: string;
  email: string;
  name?: string;
  role: 'administrator' | 'bot-developer' | 'analyst' | 'viewer';
  projectId: string;
  projectName?: string;
}

export interface Issue {
  severity?: string;
  code?: string;
  diagnostics?: string;
  expression?: string[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly issues: Issue[],
  ) {
    super(
      issues
        .map((i) => i.diagnostics)
        .filter(Boolean)
        .join('; ') || `HTTP ${status}`,
    );
  }
}

let csrfToken = '';

export async function api<T>(path: string, init: { method?: string; json?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (init.json !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
  const text = await res.text();
  const body: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const issues = (body as { issue?: Issue[] } | undefined)?.issue ?? [{ diagnostics: `HTTP ${res.status}` }];
    throw new ApiError(res.status, issues);
  }
  return body as T;
}

interface SessionAnswer {
  user: SessionUser;
  csrfToken: string;
}

export async function currentSession(): Promise<SessionUser | undefined> {
  try {
    const answer = await api<SessionAnswer>('/auth/session');
    csrfToken = answer.csrfToken;
    return answer.user;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return undefined;
    throw err;
  }
}

export async function signIn(email: string, password: string): Promise<SessionUser> {
  const answer = await api<SessionAnswer>('/auth/session', { method: 'POST', json: { email, password } });
  csrfToken = answer.csrfToken;
  return answer.user;
}

export async function signOut(): Promise<void> {
  await api('/auth/session', { method: 'DELETE' });
  csrfToken = '';
}

// ---- The server's shapes (see packages/server/src/rules and cds) ----

export interface ServiceStatistics {
  id: string;
  name?: string;
  kind: 'rule-set' | 'coded';
  hook?: string;
  ruleSetId?: string;
  version: string;
  lastDeploy: { at?: string; by?: string };
  calls: number;
  failures: Record<'timeout' | 'memory' | 'thrown' | 'invalid-response' | 'other', number>;
  p50Ms: number | null;
  p99Ms: number | null;
  daily: { day: string; calls: number; failures: number }[];
  latestFailures: { at: string; requestId?: string; kind: string; message?: string }[];
}

export interface FeedbackDay {
  serviceId: string;
  day: string;
  accepted: number;
  overridden: number;
  reasons: Record<string, number>;
}

export interface RuleSetIssue {
  pointer: string;
  message: string;
  line?: number;
  column?: number;
}

export interface Verdict {
  valid: boolean;
  errors: RuleSetIssue[];
  warnings: RuleSetIssue[];
}

export interface TestReport {
  passed: boolean;
  results: { name: string; passed: boolean; diff?: string }[];
}

export interface Card {
  uuid?: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { label: string; url?: string; topic?: { code?: string; display?: string } };
  suggestions?: {
    label: string;
    uuid?: string;
    isRecommended?: boolean;
    actions?: { type: string; description?: string }[];
  }[];
  links?: { label: string; url: string; type?: string }[];
  overrideReasons?: { code?: string; display?: string }[];
}

export interface CdsResponse {
  cards: Card[];
  systemActions?: { type: string; description?: string; resource?: Record<string, unknown> }[];
}

export interface Preview {
  response: CdsResponse;
  valid: boolean;
  errors: { path: string; message: string }[];
  warnings: { path: string; message: string }[];
}

export interface BotVersion {
  version: string;
  lastUpdated?: string;
  author?: string;
}

interface HistoryBundle {
  entry?: {
    resource?: {
      meta?: {
        versionId?: string;
        lastUpdated?: string;
        source?: string;
        extension?: { url: string; valueString?: string; valueReference?: { display?: string } }[];
      };
    };
  }[];
}

export async function botVersions(botId: string): Promise<BotVersion[]> {
  const bundle = await api<HistoryBundle>(`/fhir/R4/Bot/${encodeURIComponent(botId)}/_history`);
  return (bundle.entry ?? []).flatMap((e) => {
    const meta = e.resource?.meta;
    if (!meta?.versionId) return [];
    const ext = meta.extension?.find((x) => /author$/i.test(x.url));
    const author = ext?.valueReference?.display ?? ext?.valueString ?? meta.source;
    return [{ version: meta.versionId, lastUpdated: meta.lastUpdated, ...(author ? { author } : {}) }];
  });
}
