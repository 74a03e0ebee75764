import { generateKeyPair } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signAccessToken } from '../auth/access-token.js';
import type { ClientRole } from '../auth/roles.js';
import { singleKey, type SigningKey } from '../auth/signing-keys.js';
import { HookbotError } from '../infra/errors.js';
import { MemorySharedState } from '../infra/shared-state.js';
import type { Services } from '../services.js';
import { authenticateCdsCaller } from './authenticate.js';

const BASE = 'http://hookbot.test';

async function services(): Promise<Services> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const key = singleKey({ kid: 'k1', privateKey, publicKey } as SigningKey);
  return { key, config: { baseUrl: BASE }, shared: new MemorySharedState() } as unknown as Services;
}

const token = (s: Services, ttl = 60, scope = 'system/Bot.rs', role: ClientRole = 'admin') =>
  signAccessToken(s.key, BASE, { clientId: 'c1', projectId: 'p1', admin: false, role, scope, generation: 0 }, ttl);

async function refusal(p: Promise<unknown>): Promise<HookbotError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof HookbotError)) throw new Error(`expected a HookbotError, got ${String(err)}`);
  return err;
}

afterEach(() => vi.useRealTimers());

describe('access tokens on CDS routes', () => {
  it('accepts a valid token repeatedly (verified once, then remembered)', async () => {
    const s = await services();
    const t = await token(s);
    for (let i = 0; i < 3; i++) {
      expect(await authenticateCdsCaller(s, `Bearer ${t}`, `${BASE}/cds-services/x`)).toEqual({
        projectId: 'p1',
        clientId: 'c1',
        via: 'access-token',
      });
    }
  });

  it('a remembered token is refused once it has expired', async () => {
    const s = await services();
    const t = await token(s, 60);
    await authenticateCdsCaller(s, `Bearer ${t}`, `${BASE}/cds-services/x`);
    vi.useFakeTimers({ now: Date.now() + 60_000 + 61_000 });
    const err = await refusal(authenticateCdsCaller(s, `Bearer ${t}`, `${BASE}/cds-services/x`));
    expect(err.status).toBe(401);
  });

  it('a token remembered for one signing key is not accepted under another', async () => {
    const a = await services();
    const b = await services();
    const t = await token(a);
    await authenticateCdsCaller(a, `Bearer ${t}`, `${BASE}/cds-services/x`);
    expect((await refusal(authenticateCdsCaller(b, `Bearer ${t}`, `${BASE}/cds-services/x`))).status).toBe(401);
  });

  it('a token without Bot read access is refused every time', async () => {
    const s = await services();
    const t = await token(s, 60, 'system/Patient.rs');
    for (let i = 0; i < 2; i++) {
      expect((await refusal(authenticateCdsCaller(s, `Bearer ${t}`, `${BASE}/cds-services/x`))).status).toBe(403);
    }
  });

  it('an EHR token calls CDS services with the cds-hooks scope, and never through Bot read', async () => {
    const s = await services();
    const ehr = await token(s, 60, 'cds-hooks', 'ehr');
    expect((await authenticateCdsCaller(s, `Bearer ${ehr}`, `${BASE}/cds-services`)).clientId).toBe('c1');
    const forged = await token(s, 60, 'system/Bot.rs', 'ehr');
    expect((await refusal(authenticateCdsCaller(s, `Bearer ${forged}`, `${BASE}/cds-services`))).status).toBe(403);
  });
});
