import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { HookbotError } from '../infra/errors.js';
import { MemorySharedState } from '../infra/shared-state.js';
import { accessFor, signAccessToken, verifyAccessToken } from './access-token.js';
import { markRevoked } from './revocation.js';
import type { ClientRole } from './roles.js';
import { singleKey, type SigningKey, type TokenKeys } from './signing-keys.js';
import { parseScopes } from './scopes.js';

const access = (scope: string, role: ClientRole = 'admin', patient?: string) =>
  accessFor({
    ...(patient ? { patient } : {}),
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

  it.each(['ehr', 'partner'] as const)('refuses the FHIR API to a %s client whatever its scope', (role) => {
    expect(() => access('system/*.cruds', role)).toThrow(HookbotError);
    expect(() => access('system/*.cruds', role)).toThrow(/may not use the FHIR API/);
  });

  it("gives a member app its member's records, read-only, and nothing without a patient", () => {
    expect(() => access('patient/*.rs', 'member-app')).toThrow(/must name its patient/);
    const member = access('system/*.cruds patient/*.rs', 'member-app', 'p1');
    expect(member.patient).toBe('p1');
    expect(member.allows('ExplanationOfBenefit', 's')).toBe(true);
    expect(member.allows('Patient', 'c')).toBe(false);
    expect(member.allows('Bot', 'r')).toBe(false);
  });
});

const ISSUER = 'http://hookbot.test';

async function signingKey(): Promise<TokenKeys> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return singleKey({ kid: 'k1', privateKey, publicKey } as SigningKey);
}

describe('verifyAccessToken', () => {
  it("carries a member's patient and fhirUser from signing to verification", async () => {
    const key = await signingKey();
    const claims = {
      clientId: 'app',
      projectId: 'p',
      admin: false,
      role: 'member-app' as const,
      scope: 'patient/*.rs',
    };
    const token = await signAccessToken(key, ISSUER, { ...claims, patient: 'p1', fhirUser: 'Patient/p1' }, 60);
    const caller = await verifyAccessToken(key, ISSUER, token, new MemorySharedState());
    expect([caller.patient, caller.fhirUser]).toEqual(['p1', 'Patient/p1']);
    const plain = await verifyAccessToken(
      key,
      ISSUER,
      await signAccessToken(key, ISSUER, claims, 60),
      new MemorySharedState(),
    );
    expect('patient' in plain || 'fhirUser' in plain).toBe(false);
  });

  it('refuses a token without a client role (issued before roles existed), whatever its scope', async () => {
    const key = await signingKey();
    const token = await new SignJWT({ client_id: 'ehr', scope: 'system/*.cruds', project: 'p' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(ISSUER)
      .setIssuedAt()
      .setJti('j1')
      .setExpirationTime('5m')
      .sign(key.current.privateKey);
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
      .sign(key.current.privateKey);
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

  it('carries a certificate binding (cnf.x5t#S256) into the caller, and none for a plain token', async () => {
    const key = await signingKey();
    const shared = new MemorySharedState();
    const claims = { clientId: 'c', projectId: 'p', admin: false, role: 'admin', scope: 'system/*.rs' } as const;
    const bound = await signAccessToken(key, ISSUER, { ...claims, certThumbprint: 'x'.repeat(43) }, 300);
    expect(decodeJwt(bound).cnf).toEqual({ 'x5t#S256': 'x'.repeat(43) });
    expect((await verifyAccessToken(key, ISSUER, bound, shared)).certThumbprint).toBe('x'.repeat(43));
    const plain = await signAccessToken(key, ISSUER, claims, 300);
    expect(decodeJwt(plain).cnf).toBeUndefined();
    expect((await verifyAccessToken(key, ISSUER, plain, shared)).certThumbprint).toBeUndefined();
  });
});
