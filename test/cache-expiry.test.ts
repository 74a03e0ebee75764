/**
 * Two instances sharing a database whose change messages never reach each other (neither has Redis: the worst
 * case of a message lost during a reconnect). With `HOOKBOT_CACHE_TTL=1`, the other instance still serves a
 * redeployed bot's new code and a project's new secrets once its cached copy is a second old, instead of the old
 * ones until it restarts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { request } from './support/http.js';
import { startServerPair } from './support/pair.js';
import type { TestServer } from './support/server.js';

let a: TestServer;
let b: TestServer;
let tokenA: string;
let tokenB: string;
let adminA: string;

// Far longer than the 1 s lifetime, far shorter than "until restart".
const poll = { timeout: 8000, interval: 100 };

beforeAll(async () => {
  ({ a, b, tokenA, tokenB, adminA } = await startServerPair(
    { store: 'postgres', env: { HOOKBOT_CACHE_TTL: '1' } },
    { store: 'postgres' },
  ));
});

afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

it('serves new bot code and new project settings once the cached copies expire, without any message', async () => {
  expect(b.server.services.shared.kind).toBe('embedded');
  const setSecret = async (value: string) => {
    const put = await request(`${a.url}/admin/projects/${a.demo.projectId}/settings`, {
      method: 'PUT',
      token: adminA,
      json: { secrets: [{ name: 'PAYER_ID', value }] },
    });
    expect(put.status).toBe(200);
  };
  await setSecret('payer-1');
  const created = await request<{ id: string }>(`${a.url}/fhir/R4/Bot`, {
    method: 'POST',
    token: tokenA,
    json: { resourceType: 'Bot', name: 'expiring' },
  });
  const deploy = async (version: string) => {
    const code = `exports.handler = async (medplum, event) => ({ version: '${version}', payer: event.secrets.PAYER_ID.valueString });`;
    const res = await request(`${a.url}/fhir/R4/Bot/${created.body.id}/$deploy`, {
      method: 'POST',
      token: tokenA,
      json: { code },
    });
    expect(res.status).toBe(200);
  };
  const executeOnB = async () =>
    (await request(`${b.url}/fhir/R4/Bot/${created.body.id}/$execute`, { method: 'POST', token: tokenB, json: {} }))
      .body;

  await deploy('v1');
  // The other instance read the project's settings when it issued its token (the project's own rate limits): the
  // first secret too reaches it once that copy expires.
  await expect.poll(executeOnB, poll).toEqual({ version: 'v1', payer: 'payer-1' });

  await deploy('v2');
  await setSecret('payer-2');
  await expect.poll(executeOnB, poll).toEqual({ version: 'v2', payer: 'payer-2' });
});
