import { describe, expect, it } from 'vitest';
import {
  defaultScopeOf,
  mayCallCds,
  registeredScope,
  roleAllowsScope,
  rolesAllowing,
  scopeBeyondRole,
} from './roles.js';
import { parseScopes } from './scopes.js';

describe('client roles', () => {
  it('keep an EHR to the cds-hooks scope', () => {
    expect(defaultScopeOf('ehr')).toBe('cds-hooks');
    expect(scopeBeyondRole('ehr', 'cds-hooks')).toBeUndefined();
    expect(scopeBeyondRole('ehr', 'cds-hooks system/Bot.rs')).toBe('system/Bot.rs');
    expect(roleAllowsScope('ehr', 'system/*.cruds')).toBe(false);
  });

  it('let a bot developer write Bots and read everything, nothing more', () => {
    expect(scopeBeyondRole('bot-developer', 'system/Bot.write system/Patient.read system/*.rs')).toBeUndefined();
    expect(scopeBeyondRole('bot-developer', 'system/Patient.c')).toBe('system/Patient.c');
    expect(rolesAllowing('system/Patient.c')).toEqual(['admin']);
  });

  it('refuse system and user scopes to a member app', () => {
    expect(scopeBeyondRole('member-app', 'patient/Coverage.rs')).toBeUndefined();
    expect(scopeBeyondRole('member-app', 'system/Patient.rs')).toBe('system/Patient.rs');
    expect(scopeBeyondRole('member-app', 'user/Patient.rs')).toBe('user/Patient.rs');
  });

  it('let CDS services be called with cds-hooks, or with Bot read access by a client of the FHIR API', () => {
    expect(mayCallCds('ehr', parseScopes('cds-hooks'))).toBe(true);
    expect(mayCallCds('admin', parseScopes('system/Bot.rs'))).toBe(true);
    expect(mayCallCds('member-app', parseScopes('user/Bot.rs'))).toBe(false);
    expect(mayCallCds('admin', parseScopes('patient/Bot.rs'))).toBe(false);
    expect(mayCallCds('admin', parseScopes('system/Patient.rs'))).toBe(false);
  });

  it('drop from a registration what the role does not allow', () => {
    expect(registeredScope('admin', 'system/*.cruds patient/*.rs')).toBe('system/*.cruds');
    expect(registeredScope('ehr', 'system/*.cruds')).toBe('');
  });

  it('treat unknown scopes as beyond every role, and identity scopes as a member app’s only', () => {
    expect(rolesAllowing('launch')).toEqual([]);
    expect(rolesAllowing('launch/patient')).toEqual(['member-app']);
    expect(rolesAllowing('offline_access')).toEqual(['member-app']);
    expect(scopeBeyondRole('admin', 'openid')).toBe('openid');
  });
});
