import { generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { HookbotError } from '../infra/errors.js';
import { accessFor, verifyAccessToken } from './access-token.js';
import type { ClientRole } from './roles.js';
import type { SigningKey } from './signing-keys.js';
import { parseScopes } from './scopes.js';

const access = (scope: string, role: ClientRole = 'admin') =>
  accessFor({ clientId: 'c', projectId: 'p', admin: false, role, scope, scopes: parseScopes(scope), expires: 0 });

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

describe('verifyAccessToken', () => {
  it('refuses a token without a client role (issued before roles existed), whatever its scope', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const key = { kid: 'k1', privateKey, publicKey } as SigningKey;
    const token = await new SignJWT({ client_id: 'ehr', scope: 'system/*.cruds', project: 'p' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer('http://hookbot.test')
      .setAudience('http://hookbot.test')
      .setExpirationTime('5m')
      .sign(privateKey);
    await expect(verifyAccessToken(key, 'http://hookbot.test', token)).rejects.toMatchObject({ status: 401 });
  });
});
