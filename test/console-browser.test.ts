/**
 * The analyst's console in a real browser (Playwright driving the system Chromium, installed by `.ci/run`): sign in
 * as the demo analyst, open the demo formulary rule set, break a condition and see the error at the field and
 * clear when fixed, evaluate a fact, run the tests, preview a card with a suggestion, deploy, see the new version,
 * roll back and read the feedback chart. Then what a viewer and an analyst may not do, in the console and through
 * the API. Each screen is screenshotted to `test-results/console/` and checked with axe-core (no serious or
 * critical violation), with the console's Content-Security-Policy in force (axe runs through the DevTools protocol).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoUser, signIn, withSession } from './support/console-session.js';
import { getToken, request } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-results/console');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const RULE_SET_TITLE = 'Non-formulary drugs with a covered alternative (CRD)';
const VALUE_POINTER = '/rules/0/conditions/all/1/value';

let t: TestServer;
let browser: Browser;
let axeSource: string;
let adminToken: string;
let ruleBotId: string;
let codedBotId: string;

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  const require = createRequire(import.meta.url);
  axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  t = await startTestServer();
  adminToken = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  const bots = await request<{ entry: { resource: { id: string; executableCode?: { contentType?: string } } }[] }>(
    `${t.url}/fhir/R4/Bot?_count=100`,
    { token: adminToken },
  );
  const rule = await request<{ entry: { resource: { id: string } }[] }>(
    `${t.url}/fhir/R4/Bot?identifier=https://hookbot.dev/fhir/rule-set|formulary-alternatives`,
    { token: adminToken },
  );
  ruleBotId = rule.body.entry[0]?.resource.id as string;
  codedBotId = bots.body.entry.find((e) => e.resource.executableCode?.contentType === 'application/javascript')
    ?.resource.id as string;
  // A call and a clinician's override, so that the feedback chart has a day to show.
  const sample = JSON.parse(
    await readFile(path.join(import.meta.dirname, '../examples/requests/order-sign-ndc-brand-insulin.json'), 'utf8'),
  ) as unknown;
  const call = await request<{ cards: { uuid: string }[] }>(`${t.url}/cds-services/${ruleBotId}`, {
    method: 'POST',
    token: adminToken,
    json: sample,
  });
  await request(`${t.url}/cds-services/${ruleBotId}/feedback`, {
    method: 'POST',
    token: adminToken,
    json: {
      feedback: [
        {
          card: call.body.cards[0]?.uuid,
          outcome: 'overridden',
          overrideReason: { reason: { code: 'patient-preference', display: 'Patient preference' } },
          outcomeTimestamp: new Date().toISOString(),
        },
      ],
    },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
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

/** A 1280×800 page that records what the browser refused (CSP) and any script error. */
async function openPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return { context, page, problems };
}

async function signInAs(page: Page, role: 'analyst' | 'viewer'): Promise<void> {
  const user = demoUser(t, role);
  await page.goto(`${t.url}/console/`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Services' }).waitFor();
}

describe('the console in a browser', () => {
  it('lets an analyst author, test, ship and watch a rule set', async () => {
    const { context, page, problems } = await openPage();
    const violations: string[] = [];
    await page.goto(`${t.url}/console/`);
    await page.getByRole('heading', { name: 'Sign in to the Hookbot console' }).waitFor();
    violations.push(...(await check(page, '01-sign-in')));
    await signInAs(page, 'analyst');
    await page.getByRole('link', { name: RULE_SET_TITLE }).waitFor();
    violations.push(...(await check(page, '02-services')));

    // Open the rule set: the form view, valid.
    await page.getByRole('link', { name: RULE_SET_TITLE }).click();
    await page.getByRole('status').filter({ hasText: 'Valid rule set' }).waitFor();
    violations.push(...(await check(page, '03-editor-form')));

    // Break a condition: the error shows at the field, and clears when fixed.
    const field = page.locator(`[data-pointer="${VALUE_POINTER}"]`);
    await field.locator('input').fill('nonFormularyInsulinX');
    await field.locator('.field-errors').filter({ hasText: 'inValueSet' }).waitFor();
    expect(await field.locator('input').getAttribute('aria-invalid')).toBe('true');
    violations.push(...(await check(page, '04-editor-invalid')));
    await field.locator('input').fill('nonFormularyInsulin');
    await page.getByRole('status').filter({ hasText: 'Valid rule set' }).waitFor();
    expect(await field.locator('.field-errors').count()).toBe(0);
    // A real change, for the diff between the versions.
    await page
      .locator('[data-pointer="/description"] textarea')
      .fill('Brand insulin off the formulary; reviewed by the analyst.');

    // Evaluate a fact on a sample request.
    await page.getByRole('button', { name: 'Explore drugCodes' }).click();
    await page.locator('.explorer').getByLabel('Sample request').selectOption('order-sign-ndc-brand-insulin');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    const result = page.locator('.explorer-result');
    await result.waitFor();
    expect(await result.textContent()).toMatch(/MedicationRequest\//);
    expect(await result.textContent()).toMatch(/"code"/);
    violations.push(...(await check(page, '05-fact-explorer')));

    // The code view holds the same document.
    await page.getByRole('button', { name: 'Code', exact: true }).click();
    await page.locator('.cm-content').waitFor();
    expect(await page.locator('.cm-content').textContent()).toContain('nonFormularyInsulin');
    violations.push(...(await check(page, '06-editor-code')));

    // Run the rule set's tests, then preview a card with its suggestion.
    await page.getByRole('link', { name: 'Test', exact: true }).click();
    await page.getByRole('button', { name: 'Run the tests' }).click();
    await page.getByText(/^2 of 2 passed$/).waitFor();
    await page.getByLabel('Sample request').selectOption('order-sign-ndc-brand-insulin');
    await page.getByRole('button', { name: 'Run the request' }).click();
    const card = page.locator('.cds-card.warning');
    await card.waitFor();
    expect(await card.getByRole('heading').textContent()).toMatch(/^Not covered: /);
    await card.getByRole('button', { name: 'Accept: Order generic insulin lispro instead' }).waitFor();
    await page.locator('.coverage').filter({ hasText: 'not-covered' }).waitFor();
    violations.push(...(await check(page, '07-test-panel')));

    // Ship: deploy (validated and tested first), see the new version, compare, roll back.
    await page.getByRole('link', { name: 'Ship' }).click();
    await page.getByRole('cell', { name: '1 (current)' }).waitFor();
    await page.getByRole('button', { name: 'Validate, test and deploy' }).click();
    await page.getByText('Deployed version 2 (2 test cases passed)').waitFor();
    await page.getByRole('cell', { name: '2 (current)' }).waitFor();
    expect(await page.getByRole('row', { name: /2 \(current\)/ }).textContent()).toContain(
      demoUser(t, 'analyst').email,
    );
    await page.getByRole('button', { name: 'Compare' }).click();
    const changes = page.getByRole('region', { name: 'Changes from version 1 to 2' });
    await changes.locator('ins').filter({ hasText: 'reviewed by the analyst' }).waitFor();
    expect(await changes.locator('del').count()).toBe(1);
    violations.push(...(await check(page, '08-ship')));
    await page.getByRole('button', { name: 'Roll back to version 1' }).click();
    await page.getByText('Rolled back to version 1: now version 3').waitFor();
    await page.getByRole('cell', { name: '3 (current)' }).waitFor();

    // Watch: the feedback chart of this service.
    await page.getByRole('link', { name: 'Watch', exact: true }).first().click();
    await page.getByRole('heading', { name: 'Watch' }).waitFor();
    await page.getByLabel('Service').selectOption(ruleBotId);
    const chart = page.getByRole('figure').filter({ hasText: 'Clinician feedback per day' });
    await chart.getByText('Overridden: 1').waitFor();
    await page.getByText('Patient preference: 1').waitFor();
    violations.push(...(await check(page, '09-watch')));

    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);

  it('does not let a viewer deploy, in the console or through the API', async () => {
    const { context, page } = await openPage();
    await signInAs(page, 'viewer');
    await page.goto(`${t.url}/console/rules/${ruleBotId}/ship`);
    const deploy = page.getByRole('button', { name: 'Validate, test and deploy' });
    await deploy.waitFor();
    expect(await deploy.isDisabled()).toBe(true);
    await page.getByText('Your role (viewer) can read rule sets but not deploy them.').waitFor();
    expect(await page.getByRole('button', { name: /^Roll back/ }).count()).toBe(0);
    expect(await check(page, '10-viewer-ship')).toEqual([]);
    await context.close();

    const viewer = demoUser(t, 'viewer');
    const session = await signIn(t, viewer.email, viewer.password);
    const ruleSet = await withSession<{ ruleSet: unknown }>(session, `${t.url}/fhir/R4/Bot/${ruleBotId}/$rule-set`);
    expect(ruleSet.status).toBe(200);
    for (const path of ['Bot/$deploy-rules', 'Bot/$test-rules', `Bot/${ruleBotId}/$rollback`]) {
      const res = await withSession<{ resourceType: string }>(session, `${t.url}/fhir/R4/${path}`, {
        method: 'POST',
        json: path.endsWith('$rollback') ? { version: '1' } : { ruleSet: ruleSet.body.ruleSet },
      });
      expect(res.status, path).toBe(403);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  }, 120_000);

  it('does not let an analyst deploy a coded bot or read another project, in the console or through the API', async () => {
    // Another payer's project with a rule set of its own.
    const superAdmin = await getToken(t.url, t.admin.clientId, t.admin.clientSecret);
    const other = await request<{ client: { clientId: string; clientSecret: string } }>(`${t.url}/admin/projects`, {
      method: 'POST',
      token: superAdmin,
      json: { name: 'other-payer' },
    });
    const otherToken = await getToken(t.url, other.body.client.clientId, other.body.client.clientSecret);
    const ours = await request<{ ruleSet: Record<string, unknown> }>(`${t.url}/fhir/R4/Bot/${ruleBotId}/$rule-set`, {
      token: adminToken,
    });
    const theirs = await request<{ bot: { id: string } }>(`${t.url}/fhir/R4/Bot/$deploy-rules`, {
      method: 'POST',
      token: otherToken,
      json: { ruleSet: ours.body.ruleSet },
    });
    expect(theirs.status).toBe(201);
    const otherBotId = theirs.body.bot.id;

    const { context, page } = await openPage();
    await signInAs(page, 'analyst');
    // A coded bot is listed, but not as something the analyst can open.
    const codedRow = page.getByRole('row').filter({ hasText: 'Coded bot' }).first();
    await codedRow.waitFor();
    expect(await codedRow.getByRole('link').count()).toBe(0);
    await page.goto(`${t.url}/console/rules/${codedBotId}/ship`);
    await page.getByRole('alert').filter({ hasText: 'serves no rule set' }).waitFor();
    expect(await check(page, '11-analyst-coded-bot')).toEqual([]);
    await page.goto(`${t.url}/console/rules/${otherBotId}`);
    await page
      .getByRole('alert')
      .filter({ hasText: /not found/i })
      .waitFor();
    await context.close();

    const analyst = demoUser(t, 'analyst');
    const session = await signIn(t, analyst.email, analyst.password);
    const deployCoded = await withSession(session, `${t.url}/fhir/R4/Bot/${codedBotId}/$deploy`, {
      method: 'POST',
      json: { code: 'exports.handler = async () => ({ cards: [] });' },
    });
    expect(deployCoded.status).toBe(403);
    for (const path of [`Bot/${otherBotId}`, `Bot/${otherBotId}/$rule-set`]) {
      const res = await withSession(session, `${t.url}/fhir/R4/${path}`);
      expect(res.status, path).toBe(404);
    }
    const search = await withSession<{ entry?: unknown[] }>(
      session,
      `${t.url}/fhir/R4/Bot?identifier=https://hookbot.dev/fhir/rule-set|formulary-alternatives`,
    );
    expect(search.body.entry).toHaveLength(1);
  }, 120_000);
});
