import { generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { HookbotError } from '../infra/errors.js';
import { MemorySharedState } from '../infra/shared-state.js';
import { accessFor, signAccessToken, verifyAccessToken } from './access-token.js';
import { markRevoked } from './revocation.js';
import type { ClientRole } from './roles.js';
import type { SigningKey } from './signing-keys.js';
import { parseScopes } from './scopes.js';

const access = (scope: string, role: ClientRole = 'admin') =>
  accessFor({
    clientId: 'c',
    projectId: 'p',
    admin: false,
    role,
    scope,
    scopes: parseScopes(scope),
    expires: 0,
    issuedAt: 0,
    jti: 'j',
    generation: 0,
  });

describe('accessFor', () => {
  it('grants by system/ and user/ scopes, per type and interaction', () => {
    const a = access('system/Patient.rs user/Bot.cruds');
    expect(a.projectId).toBe('p');
    expect(a.allows('Patient', 'r')).toBe(true);
    expect(a.allows('Patient', 'c')).toBe(false);
    expect(a.allows('Bot', 'd')).toBe(true);
    expect(a.allows('Coverage', 'r')).toBe(false);
  });

  it('grants nothing for patient/ scopes or query-restricted scopes on the platform API', () => {
    const a = access('patient/Patient.rs system/Coverage.rs?status=active');
    expect(a.allows('Patient', 'r')).toBe(false);
    expect(a.allows('Coverage', 's')).toBe(false);
  });

  it.each(['ehr', 'partner', 'member-app'] as const)(
    'refuses the FHIR API to a %s client whatever its scope',
    (role) => {
      expect(() => access('system/*.cruds', role)).toThrow(HookbotError);
      expect(() => access('system/*.cruds', role)).toThrow(/may not use the FHIR API/);
    },
  );
});

const ISSUER = 'http://hookbot.test';

async function signingKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid: 'k1', privateKey, publicKey } as SigningKey;
}

describe('verifyAccessToken', () => {
  it('refuses a token without a client role (issued before roles existed), whatever its scope', async () => {
    const key = await signingKey();
    const token = await new SignJWT({ client_id: 'ehr', scope: 'system/*.cruds', project: 'p' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(ISSUER)
      .setIssuedAt()
      .setJti('j1')
      .setExpirationTime('5m')
      .sign(key.privateKey);
    await expect(verifyAccessToken(key, ISSUER, token, new MemorySharedState())).rejects.toMatchObject({
      status: 401,
      errorCode: 'auth.token-without-role',
    });
  });

  it('refuses a token without a jti: it could not be revoked', async () => {
    const key = await signingKey();
    const token = await new SignJWT({ client_id: 'c', scope: 'system/*.rs', project: 'p', role: 'admin' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(ISSUER)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key.privateKey);
    await expect(verifyAccessToken(key, ISSUER, token, new MemorySharedState())).rejects.toMatchObject({
      errorCode: 'auth.invalid-token',
    });
  });

  it('refuses a revoked token at once, although it was verified (and remembered) before', async () => {
    const key = await signingKey();
    const shared = new MemorySharedState();
    const claims = {
      clientId: 'c',
      projectId: 'p',
      admin: false,
      role: 'admin',
      scope: 'system/*.rs',
      generation: 0,
    } as const;
    const token = await signAccessToken(key, ISSUER, claims, 300);
    const caller = await verifyAccessToken(key, ISSUER, token, shared);
    expect(caller).toMatchObject({ clientId: 'c', jti: expect.any(String) });
    await markRevoked(shared, caller.jti, caller.expires);
    await expect(verifyAccessToken(key, ISSUER, token, shared)).rejects.toMatchObject({
      status: 401,
      errorCode: 'auth.revoked-token',
    });
  });
});
