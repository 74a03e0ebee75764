import { describe, expect, it } from 'vitest';
import { memberAppScope, narrowedScope } from './authorize-request.js';
import type { ClientRecord } from './clients.js';
import { MEMBER_APP_SCOPE } from './roles.js';

const app = (scope = MEMBER_APP_SCOPE) => ({ role: 'member-app', scope }) as ClientRecord;

describe('memberAppScope', () => {
  it('grants reads at patient level: user/ becomes patient/, writes are dropped, v2 keeps its letters', () => {
    expect(memberAppScope(app(), undefined)).toBe('patient/*.read');
    expect(memberAppScope(app(), 'user/*.read openid')).toBe('patient/*.read openid');
    expect(memberAppScope(app(), 'patient/*.cruds patient/Coverage.write')).toBe('patient/*.rs');
    expect(memberAppScope(app(), 'patient/Coverage.r online_access offline_access')).toBe(
      'patient/Coverage.r offline_access',
    );
  });

  it('refuses system scopes, query restrictions, unknown scopes, nothing to read, and more than the app holds', () => {
    for (const scope of [
      'system/*.read',
      'patient/Observation.rs?category=laboratory',
      'patient/*.read launch',
      'patient/*.write',
      'openid',
    ])
      expect(() => memberAppScope(app(), scope), scope).toThrow(
        expect.objectContaining({ oauthError: 'invalid_scope' }),
      );
    expect(() => memberAppScope(app('patient/Coverage.rs'), 'patient/*.read')).toThrow(/beyond/);
    expect(() => memberAppScope(app('patient/*.rs'), 'patient/*.read offline_access')).toThrow(/not available/);
  });
});

describe('narrowedScope', () => {
  it('allows what was granted or less, and nothing more', () => {
    const granted = 'patient/*.read openid offline_access';
    expect(narrowedScope(granted, undefined)).toBe(granted);
    expect(narrowedScope(granted, 'patient/Coverage.rs openid')).toBe('patient/Coverage.rs openid');
    for (const wider of ['patient/*.cruds', 'user/*.read', 'fhirUser', 'system/Patient.read'])
      expect(() => narrowedScope(granted, wider), wider).toThrow(/not granted/);
  });
});
