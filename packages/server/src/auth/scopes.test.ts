import { describe, expect, it } from 'vitest';
import { grantingScopes, parseScope, parseScopes, scopeCovers } from './scopes.js';

describe('parseScope', () => {
  it.each([
    ['system/*.read', 'system', '*', ['r', 's']],
    ['system/Bot.write', 'system', 'Bot', ['c', 'u', 'd']],
    ['user/Patient.*', 'user', 'Patient', ['c', 'r', 'u', 'd', 's']],
    ['patient/Coverage.rs', 'patient', 'Coverage', ['r', 's']],
    ['system/Bot.cruds', 'system', 'Bot', ['c', 'r', 'u', 'd', 's']],
    ['system/Claim.c', 'system', 'Claim', ['c']],
  ])('%s', (raw, context, type, interactions) => {
    const scope = parseScope(raw);
    expect(scope?.context).toBe(context);
    expect(scope?.resourceType).toBe(type);
    expect([...(scope?.interactions ?? [])].sort()).toEqual([...interactions].sort());
  });

  it.each([
    'openid',
    'launch/patient',
    'system/Patient.sr',
    'system/Patient.',
    'system/patient.read',
    'Patient.read',
    'system/Patient.read?x=1',
  ])('rejects %s', (raw) => expect(parseScope(raw)).toBeUndefined());

  it('keeps a v2 query restriction', () => {
    expect(parseScope('patient/Observation.rs?category=laboratory')?.query?.get('category')).toBe('laboratory');
  });
});

describe('grantingScopes', () => {
  const set = parseScopes('patient/Coverage.read user/Practitioner.rs Epic.Something openid');
  it('grants by context and type', () => {
    expect(grantingScopes(set, 'Coverage', 'r')).toHaveLength(1);
    expect(grantingScopes(set, 'Coverage', 'c')).toHaveLength(0);
    expect(grantingScopes(set, 'Patient', 'r')).toHaveLength(0);
    expect(grantingScopes(set, 'Coverage', 'r', ['system'])).toHaveLength(0);
  });
  it('collects non-SMART scopes separately', () => {
    expect(set.other).toEqual(['Epic.Something', 'openid']);
  });
});

describe('scopeCovers', () => {
  const cover = (g: string, r: string) => scopeCovers(parseScope(g)!, parseScope(r)!);
  it('allows down-scoping', () => {
    expect(cover('system/*.*', 'system/Bot.read')).toBe(true);
    expect(cover('system/*.cruds', 'system/Patient.rs')).toBe(true);
    expect(cover('system/Bot.read', 'system/Bot.write')).toBe(false);
    expect(cover('system/Bot.read', 'system/Patient.read')).toBe(false);
    expect(cover('user/*.read', 'system/Patient.read')).toBe(false);
  });
});
