import { describe, expect, it } from 'vitest';
import { accessFor } from './access-token.js';
import { parseScopes } from './scopes.js';

const access = (scope: string) =>
  accessFor({ clientId: 'c', projectId: 'p', admin: false, scope, scopes: parseScopes(scope), expires: 0 });

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
});
