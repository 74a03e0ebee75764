/**
 * The member's flow in a real browser (Playwright driving the system Chromium, installed by `.ci/run`): a member
 * app on loopback sends the member to sign in; the member creates an account, approves the app, and the app
 * receives a code, exchanges it and reads the member's records. Each page is screenshotted to
 * `test-results/member-browser/` and checked with axe-core: no serious or critical violation. The pages keep their
 * Content-Security-Policy while checked (axe is evaluated through the DevTools protocol, not as a page script).
 */
import { createServer, type Server } from 'node:http';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken, request } from './support/http.js';
import { pkce, registerMemberApp, type MemberFacts } from './support/member-launch.js';
import { freePort } from './support/port.js';
import { startTestServer, type TestServer } from './support/server.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-results/member-browser');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let t: TestServer;
let browser: Browser;
let appServer: Server;
let axeSource: string;

/** What the loopback app saw at its redirect URI and got from the server afterwards. */
interface AppVisit {
  query: Record<string, string>;
  token?: { status: number; body: Record<string, unknown> };
  userinfo?: { status: number; body: Record<string, unknown> };
  patient?: { status: number; body: Record<string, unknown> };
  eobs?: { status: number; body: Record<string, unknown> };
}
let visit: AppVisit | undefined;
let pending: { verifier: string; clientId: string; redirectUri: string } | undefined;

/** The member app: `/callback` exchanges the code and reads the member's Patient and EOBs, as a real app would. */
async function callback(url: URL): Promise<string> {
  const query = Object.fromEntries(url.searchParams);
  visit = { query };
  if (!query.code || !pending) return 'No code';
  const token = await request(`${t.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: query.code,
      code_verifier: pending.verifier,
      redirect_uri: pending.redirectUri,
      client_id: pending.clientId,
    }),
  });
  visit.token = token;
  const accessToken = token.body.access_token as string;
  const patient = token.body.patient as string;
  visit.userinfo = await request(`${t.url}/oauth2/userinfo`, { token: accessToken });
  visit.patient = await request(`${t.url}/fhir/R4/Patient/${patient}`, { token: accessToken });
  visit.eobs = await request(
    `${t.url}/fhir/R4/ExplanationOfBenefit?patient=${patient}&_include=ExplanationOfBenefit:coverage`,
    { token: accessToken },
  );
  return `Connected to your health plan as Patient/${patient}`;
}

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  const require = createRequire(import.meta.url);
  axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Development mode: the app's redirect URI is on loopback, and cookies go over plain HTTP.
  t = await startTestServer({ env: { NODE_ENV: 'development' } });
  const appPort = await freePort();
  appServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${appPort}`);
    const answer = url.pathname === '/callback' ? callback(url) : Promise.resolve('Member app');
    answer.then(
      (text) => {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><html lang="en"><title>Member app</title><main><h1>${text}</h1></main></html>`);
      },
      (err: Error) => {
        res.writeHead(500);
        res.end(err.message);
      },
    );
  });
  await new Promise<void>((resolve) => appServer.listen(appPort, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${appPort}/callback`;
  const app = await registerMemberApp(t, { public: true, redirectUris: [redirectUri], name: 'Loopback Test App' });
  pending = { verifier: '', clientId: app.clientId, redirectUri };
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => appServer?.close(resolve));
  await t?.stop();
});

/** Screenshots the page and returns axe-core's serious and critical violations on it. */
async function check(page: Page, name: string): Promise<string[]> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run: () => Promise<{ violations: { id: string; impact: string; help: string }[] }> };
      }
    ).axe;
    return (await axe.run()).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${name}: ${v.id} (${v.impact}) ${v.help}`);
}

/** Seed 001's first demo member, Mayte822 Venegas795, whom the demo project holds with a Coverage and EOBs. */
async function memberToSignUp(): Promise<{ facts: MemberFacts; patientId: string }> {
  const admin = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  const facts: MemberFacts = {
    firstName: 'Mayte822',
    lastName: 'Venegas795',
    birthDate: '2011-01-04',
    memberId: '01-testmemid',
    postalCode: '02116',
  };
  const found = await request<{ entry?: { resource: { id: string } }[] }>(
    `${t.url}/fhir/R4/Patient?family=${facts.lastName}&birthdate=${facts.birthDate}`,
    { token: admin },
  );
  const patientId = found.body.entry?.[0]?.resource.id;
  expect(patientId).toBeDefined();
  return { facts, patientId: patientId as string };
}

describe('a member in a browser', () => {
  it('signs up, approves the app, and the app on loopback gets the member’s token and records', async () => {
    const { facts, patientId } = await memberToSignUp();
    const { verifier, challenge } = pkce();
    if (pending) pending.verifier = verifier;
    const authorize = `${t.url}/oauth2/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: pending?.clientId ?? '',
      redirect_uri: pending?.redirectUri ?? '',
      scope: 'launch/patient openid fhirUser offline_access patient/*.read',
      state: 'browser-state',
      aud: `${t.server.services.config.baseUrl}/fhir/R4`,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;

    const context = await browser.newContext({ viewport: { width: 390, height: 844 } }); // a phone
    const page = await context.newPage();
    const violations: string[] = [];

    await page.goto(authorize);
    await expect(page.title()).resolves.toBe('Sign in to your health plan');
    // The stylesheet is allowed by its hash: the page is styled under its own CSP.
    const buttonColour = await page
      .locator('button[type=submit]')
      .evaluate(
        (b) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(b)
            .backgroundColor,
      );
    expect(buttonColour).toBe('rgb(11, 61, 145)');
    violations.push(...(await check(page, '1-sign-in')));

    await page.getByRole('link', { name: 'Create an account' }).click();
    await expect(page.title()).resolves.toBe('Create your account');
    violations.push(...(await check(page, '2-sign-up')));

    const fill = async (wrongPostal: boolean) => {
      await page.getByLabel('First name').fill(facts.firstName);
      await page.getByLabel('Last name').fill(facts.lastName);
      await page.getByLabel('Birth date').fill(facts.birthDate);
      await page.getByLabel('Member ID').fill(facts.memberId);
      await page.getByLabel('Postal code').fill(wrongPostal ? '99999' : facts.postalCode);
      await page.getByLabel('Email').fill(`browser-${facts.memberId}@example.com`);
      await page.getByLabel('Password').fill('a long browser password');
      // Submitted from the keyboard.
      await page.getByLabel('Password').press('Enter');
    };
    await fill(true);
    expect(await page.getByRole('alert').textContent()).toContain('do not match');
    violations.push(...(await check(page, '3-sign-up-mismatch')));

    await fill(false);
    await expect(page.title()).resolves.toBe('Allow Loopback Test App to see your records?');
    expect(await page.locator('ul.scopes').textContent()).toContain('claims');
    violations.push(...(await check(page, '4-consent')));

    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(/\/callback\?/);
    expect(await page.locator('h1').textContent()).toContain(`Patient/${patientId}`);
    await page.screenshot({ path: path.join(ARTIFACTS, '5-app-connected.png') });

    await page.goto(`${t.url}/oauth2/authorize?client_id=unknown-app&response_type=code`);
    violations.push(...(await check(page, '6-error')));
    await context.close();

    expect(violations).toEqual([]);
    expect(visit?.query.state).toBe('browser-state');
    expect(visit?.token?.status).toBe(200);
    expect(visit?.token?.body).toMatchObject({ patient: patientId, token_type: 'Bearer' });
    expect(visit?.userinfo?.body).toMatchObject({
      fhirUser: expect.stringMatching(new RegExp(`/Patient/${patientId}$`)),
    });
    expect(visit?.patient?.status).toBe(200);
    expect(visit?.patient?.body).toMatchObject({ resourceType: 'Patient', id: patientId });
    expect(visit?.eobs?.status).toBe(200);
    const entries = (visit?.eobs?.body.entry ?? []) as { resource: { resourceType: string } }[];
    expect(entries.map((e) => e.resource.resourceType)).toEqual(
      expect.arrayContaining(['ExplanationOfBenefit', 'Coverage']),
    );
  }, 120_000);
});
