/**
 * A member's side of the SMART standalone launch, over HTTP: a member app registered, a member (Patient and active
 * Coverage) in the demo project, a browser that keeps cookies and follows no redirect, and the whole flow from the
 * authorization request to the token response.
 */
import { createHash, randomBytes } from 'node:crypto';
import { getToken, request } from './http.js';
import type { TestServer } from './server.js';

export const REDIRECT_URI = 'https://member-app.example/callback';

export interface MemberFacts {
  firstName: string;
  lastName: string;
  birthDate: string;
  memberId: string;
  postalCode: string;
}

/** A cookie jar and form posts, as a browser sends them; redirects are returned, not followed. */
export class Browser {
  readonly cookies = new Map<string, string>();

  async send(url: string, init: RequestInit = {}): Promise<{ status: number; location?: string; html: string }> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('Cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/Max-Age=0/i.test(cookie) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location') ?? undefined, html: await res.text() };
  }

  get(url: string) {
    return this.send(url);
  }

  post(url: string, fields: Record<string, string>) {
    return this.send(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
  }
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The hidden fields of a page's first form (the CSRF token and the authorization request). */
export function hiddenFields(html: string): Record<string, string> {
  return Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [
      unescapeHtml(m[1] ?? ''),
      unescapeHtml(m[2] ?? ''),
    ]),
  );
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export async function superAdminToken(t: TestServer): Promise<string> {
  return getToken(t.url, t.admin.clientId, t.admin.clientSecret);
}

/** Registers a member app in the demo project. */
export async function registerMemberApp(
  t: TestServer,
  options: { public?: boolean; redirectUris?: string[]; name?: string } = {},
): Promise<{ clientId: string; clientSecret?: string }> {
  const res = await request<{ clientId: string; clientSecret?: string }>(
    `${t.url}/admin/projects/${t.demo.projectId}/clients`,
    {
      method: 'POST',
      token: await superAdminToken(t),
      json: {
        name: options.name ?? 'Member test app',
        redirectUris: options.redirectUris ?? [REDIRECT_URI],
        ...(options.public ? { public: true } : {}),
      },
    },
  );
  if (res.status !== 201) throw new Error(`registering a member app: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

let memberCount = 0;

/** Facts of a new member, unique within the test run. */
export function newFacts(): MemberFacts {
  memberCount += 1;
  return {
    firstName: 'Mayte',
    lastName: `Tester${memberCount}${randomBytes(3).toString('hex')}`,
    birthDate: '2011-01-04',
    memberId: `t-${randomBytes(6).toString('hex')}`,
    postalCode: '02116',
  };
}

/** Stores a Patient and its active Coverage (subscriberId = member id) in the demo project; returns the Patient id. */
export async function createMember(t: TestServer, facts: MemberFacts): Promise<string> {
  const token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  const patient = await request<{ id: string }>(`${t.url}/fhir/R4/Patient`, {
    method: 'POST',
    token,
    json: {
      resourceType: 'Patient',
      name: [{ family: facts.lastName, given: [facts.firstName] }],
      birthDate: facts.birthDate,
      address: [{ postalCode: facts.postalCode }],
    },
  });
  if (patient.status !== 201) throw new Error(`creating a Patient: ${patient.status}`);
  const coverage = await request(`${t.url}/fhir/R4/Coverage`, {
    method: 'POST',
    token,
    json: {
      resourceType: 'Coverage',
      status: 'active',
      subscriberId: facts.memberId,
      beneficiary: { reference: `Patient/${patient.body.id}` },
      payor: [{ display: 'Demo Health Plan' }],
    },
  });
  if (coverage.status !== 201) throw new Error(`creating a Coverage: ${coverage.status}`);
  return patient.body.id;
}

export interface AuthorizeOptions {
  clientId: string;
  redirectUri?: string;
  scope?: string;
  state?: string;
  challenge?: string;
  nonce?: string;
}

export function authorizeParams(t: TestServer, o: AuthorizeOptions): Record<string, string> {
  return {
    response_type: 'code',
    client_id: o.clientId,
    redirect_uri: o.redirectUri ?? REDIRECT_URI,
    scope: o.scope ?? 'launch/patient openid fhirUser offline_access patient/*.read',
    state: o.state ?? 'state-123',
    aud: `${t.server.services.config.baseUrl}/fhir/R4`,
    code_challenge: o.challenge ?? pkce().challenge,
    code_challenge_method: 'S256',
    ...(o.nonce ? { nonce: o.nonce } : {}),
  };
}

export const authorizeUrl = (t: TestServer, o: AuthorizeOptions) =>
  `${t.url}/oauth2/authorize?${new URLSearchParams(authorizeParams(t, o))}`;

export function signUpFields(facts: MemberFacts, email: string, password = 'correct horse battery') {
  return {
    first_name: facts.firstName,
    last_name: facts.lastName,
    birth_date: facts.birthDate,
    member_id: facts.memberId,
    postal_code: facts.postalCode,
    email,
    password,
  };
}

/**
 * Signs the member up from the authorization request, approves it, and returns the code the app receives (the
 * browser is then signed in).
 */
export async function signUpAndApprove(
  t: TestServer,
  browser: Browser,
  options: AuthorizeOptions,
  facts: MemberFacts,
  email: string,
): Promise<string> {
  const params = authorizeParams(t, options);
  const signIn = await browser.get(`${t.url}/oauth2/authorize?${new URLSearchParams(params)}`);
  if (signIn.status !== 200) throw new Error(`authorize: ${signIn.status} ${signIn.html.slice(0, 300)}`);
  const signUp = await browser.get(`${t.url}/oauth2/authorize/sign-up?${new URLSearchParams(params)}`);
  const created = await browser.post(`${t.url}/oauth2/authorize/sign-up`, {
    ...hiddenFields(signUp.html),
    ...signUpFields(facts, email),
  });
  if (created.status !== 303) throw new Error(`sign-up: ${created.status} ${created.html.slice(0, 500)}`);
  return approve(t, browser, created.location as string);
}

/** Opens the consent page at `location` (this server's) and approves it: the code the app receives. */
export async function approve(t: TestServer, browser: Browser, location: string): Promise<string> {
  const consent = await browser.get(new URL(location, t.url).toString());
  if (consent.status !== 200) throw new Error(`consent page: ${consent.status}`);
  const approved = await browser.post(`${t.url}/oauth2/authorize/consent`, {
    ...hiddenFields(consent.html),
    decision: 'approve',
  });
  const code = approved.location ? new URL(approved.location).searchParams.get('code') : null;
  if (approved.status !== 303 || !code) throw new Error(`consent: ${approved.status} ${approved.location}`);
  return code;
}

export async function exchangeCode(
  t: TestServer,
  fields: { code: string; verifier: string; clientId: string; clientSecret?: string; redirectUri?: string },
) {
  return request<Record<string, string | number>>(`${t.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: fields.code,
      code_verifier: fields.verifier,
      redirect_uri: fields.redirectUri ?? REDIRECT_URI,
      client_id: fields.clientId,
      ...(fields.clientSecret ? { client_secret: fields.clientSecret } : {}),
    }),
  });
}

/** A member app's access token for a new member of the demo project, through the whole flow. */
export async function memberToken(t: TestServer): Promise<{ token: string; patient: string }> {
  const app = await registerMemberApp(t, { public: true });
  const { verifier, challenge } = pkce();
  const facts = newFacts();
  await createMember(t, facts);
  const code = await signUpAndApprove(
    t,
    new Browser(),
    { clientId: app.clientId, challenge },
    facts,
    `${facts.lastName.toLowerCase()}@example.com`,
  );
  const res = await exchangeCode(t, { code, verifier, clientId: app.clientId });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return { token: res.body.access_token as string, patient: res.body.patient as string };
}
