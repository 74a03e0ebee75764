import { describe, expect, it } from 'vitest';
import { HookbotError } from './errors.js';
import { checkOutboundUrl, isLoopbackAddress, isPrivateAddress } from './outbound-url.js';

const publicDns = async () => ['93.184.216.34'];
const privateDns = async () => ['10.1.2.3'];

async function refusal(promise: Promise<unknown>): Promise<HookbotError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HookbotError);
  return err as HookbotError;
}

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '::1',
    'fd00::1',
    '::ffff:10.0.0.1',
    '0.0.0.0',
  ])('%s is private', (ip) => expect(isPrivateAddress(ip)).toBe(true));
  it.each([
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '::ffff:a00:1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    '::7f00:1',
    '::',
    '0.0.0.0',
    '192.0.0.8',
    '::ffff:0:7f00:1',
    '::ffff:0:a00:1',
    '64:ff9b:1::a00:1',
    'fec0::1',
  ])('%s (IPv4 inside IPv6, unspecified) is private', (ip) => expect(isPrivateAddress(ip)).toBe(true));
  it.each(['8.8.8.8', '93.184.216.34', '2001:4860:4860::8888', '172.32.0.1'])('%s is public', (ip) =>
    expect(isPrivateAddress(ip)).toBe(false),
  );
});

describe('checkOutboundUrl', () => {
  const prod = { development: false };
  it('accepts https to a public host', async () => {
    await expect(
      checkOutboundUrl('https://ehr.example.org/fhir', prod, 'fhirServer', publicDns),
    ).resolves.toBeInstanceOf(URL);
  });
  it('refuses http', async () => {
    const err = await refusal(checkOutboundUrl('http://ehr.example.org/fhir', prod, 'fhirServer', publicDns));
    expect(err.status).toBe(400);
    expect(err.issues[0]?.expression).toEqual(['fhirServer']);
  });
  it('refuses hosts resolving to private addresses (cloud metadata, intranet)', async () => {
    await refusal(checkOutboundUrl('https://ehr.example.org/fhir', prod, undefined, privateDns));
    await refusal(checkOutboundUrl('https://169.254.169.254/latest', prod));
    await refusal(checkOutboundUrl('https://[::1]/x', prod));
  });
  it('refuses other schemes and embedded credentials', async () => {
    await refusal(checkOutboundUrl('file:///etc/passwd', prod));
    await refusal(checkOutboundUrl('https://u:p@ehr.example.org/', prod, undefined, publicDns));
    await refusal(checkOutboundUrl('not a url', prod));
  });
  it('allows a listed base URL, loopback only in development', async () => {
    const allowed = ['http://127.0.0.1:9999/fhir'];
    await refusal(
      checkOutboundUrl('http://127.0.0.1:9999/fhir/Patient/1', { development: false, allowedBaseUrls: allowed }),
    );
    await expect(
      checkOutboundUrl('http://127.0.0.1:9999/fhir/Patient/1', { development: true, allowedBaseUrls: allowed }),
    ).resolves.toBeInstanceOf(URL);
    await refusal(checkOutboundUrl('http://127.0.0.1:9999/fhirx', { development: true, allowedBaseUrls: allowed }));
  });
  it('names both conditions for a loopback URL at once, and which are missing', async () => {
    const url = 'http://127.0.0.1:9999/fhir/Patient/1';
    const both =
      'http://127.0.0.1:9999 is a loopback address, called only when it is an allowed base URL of the project and the server runs in development mode; ';
    const notListed = 'it is not an allowed base URL of the project (allowedBaseUrls in its settings)';
    const notDev = 'the server does not run in development mode (NODE_ENV=development)';
    const message = async (policy: { development: boolean; allowedBaseUrls?: string[] }) =>
      (await refusal(checkOutboundUrl(url, policy))).issues[0]?.diagnostics;
    expect(await message({ development: false })).toBe(`${both}${notListed}, and ${notDev}`);
    expect(await message({ development: true })).toBe(`${both}${notListed}`);
    expect(await message({ development: false, allowedBaseUrls: ['http://127.0.0.1:9999/fhir'] })).toBe(
      `${both}${notDev}`,
    );
  });
  it('refuses a listed base URL whose name resolves to loopback outside development', async () => {
    const allowed = ['http://ehr.internal:9999'];
    const loopbackDns = async () => ['127.0.0.1'];
    await refusal(
      checkOutboundUrl(
        'http://ehr.internal:9999/x',
        { development: false, allowedBaseUrls: allowed },
        undefined,
        loopbackDns,
      ),
    );
    await refusal(
      checkOutboundUrl('http://localhost.:9999/x', { development: false, allowedBaseUrls: ['http://localhost.:9999'] }),
    );
    await expect(
      checkOutboundUrl(
        'http://ehr.internal:9999/x',
        { development: false, allowedBaseUrls: allowed },
        undefined,
        privateDns,
      ),
    ).resolves.toBeInstanceOf(URL);
  });
  it('refuses IPv4-mapped IPv6 literals that point inside', async () => {
    await refusal(checkOutboundUrl('https://[::ffff:127.0.0.1]:8443/fhir', prod));
    await refusal(checkOutboundUrl('https://[::ffff:a9fe:a9fe]/latest', prod));
  });
});

describe('isLoopbackAddress', () => {
  it.each(['127.0.0.1', '127.8.8.8', '0.0.0.0', '::1', '::', '::ffff:7f00:1', '::ffff:127.0.0.1'])(
    '%s is loopback',
    (ip) => expect(isLoopbackAddress(ip)).toBe(true),
  );
  it.each(['10.0.0.1', '::ffff:a00:1', 'fd00::1', '8.8.8.8'])('%s is not loopback', (ip) =>
    expect(isLoopbackAddress(ip)).toBe(false),
  );
});
