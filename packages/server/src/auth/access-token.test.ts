import { describe, expect, it } from 'vitest';
import { HookbotError } from '../infra/errors.js';
import { accessFor } from './access-token.js';
import type { ClientRole } from './roles.js';
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
