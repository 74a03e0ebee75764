/** Console users in end-to-end tests: sign in with email and password, then call the API with the session cookie. */
import { request, type JsonResponse } from './http.js';
import type { TestServer } from './server.js';

export interface DemoUser {
  email: string;
  password: string;
  role: string;
}

/** The demo project's console users, from `demo-credentials.json`. */
export function demoUser(t: TestServer, role: 'analyst' | 'viewer'): DemoUser {
  const users = (t.demo as unknown as { users: DemoUser[] }).users;
  const user = users.find((u) => u.role === role);
  if (!user) throw new Error(`no demo ${role}`);
  return user;
}

export interface ConsoleSession {
  cookie: string;
  csrfToken: string;
  user: { id: string; email: string; role: string; projectId: string; projectName: string; name: string };
  /** Headers of a request made with the session: the cookie, and the CSRF token (sent on every method here). */
  headers: Record<string, string>;
}

/** The `name=value` of a `Set-Cookie` header for `name`. */
export function cookieOf(res: JsonResponse, name: string): string | undefined {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] as string)
    .find((c) => c.startsWith(`${name}=`));
}

export async function signIn(t: TestServer, email: string, password: string): Promise<ConsoleSession> {
  const res = await request<{ user: ConsoleSession['user']; csrfToken: string }>(`${t.url}/auth/session`, {
    method: 'POST',
    json: { email, password },
  });
  if (res.status !== 200) throw new Error(`sign-in of ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  const cookie = cookieOf(res, 'hookbot_session') as string;
  return {
    cookie,
    csrfToken: res.body.csrfToken,
    user: res.body.user,
    headers: { Cookie: cookie, 'X-CSRF-Token': res.body.csrfToken },
  };
}

/** A request with the session (cookie and CSRF token). */
export function withSession<T = Record<string, unknown>>(
  session: ConsoleSession,
  url: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<JsonResponse<T>> {
  return request<T>(url, { ...init, headers: { ...session.headers, ...(init.headers as Record<string, string>) } });
}

/** A user of the demo project with `role`, invited by `adminToken` (a project admin) and accepted with a password. */
export async function inviteUser(t: TestServer, adminToken: string, email: string, role: string): Promise<DemoUser> {
  const invited = await request<{ token: string }>(`${t.url}/admin/projects/${t.demo.projectId}/invitations`, {
    method: 'POST',
    token: adminToken,
    json: { email, role },
  });
  if (invited.status !== 201) throw new Error(`inviting ${email}: ${invited.status} ${JSON.stringify(invited.body)}`);
  const password = `${role} password ${Math.random()}`;
  const accepted = await request(`${t.url}/auth/invitations/accept`, {
    method: 'POST',
    json: { token: invited.body.token, password },
  });
  if (accepted.status !== 201) throw new Error(`accepting ${email}: ${accepted.status}`);
  return { email, password, role };
}
