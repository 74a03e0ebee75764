import { describe, expect, it } from 'vitest';
import { userMayCall, userRoleDefinition } from './user-roles.js';

describe('user roles', () => {
  it('let every role read and manage its own session', () => {
    for (const role of ['administrator', 'bot-developer', 'analyst', 'viewer'] as const) {
      for (const route of ['GET /fhir/R4/:type', 'GET /fhir/R4/:type/:id/_history', 'GET /cds-feedback/stats'])
        expect(userMayCall(role, route.split(' ')[0] as string, route.split(' ')[1] as string), route).toBe(true);
      expect(userMayCall(role, 'HEAD', '/fhir/R4/:type/:id')).toBe(true);
      expect(userMayCall(role, 'DELETE', '/auth/session')).toBe(true);
    }
  });

  it('let an analyst work on rule sets only, and a viewer nothing but reads', () => {
    expect(userMayCall('analyst', 'POST', '/fhir/R4/Bot/$deploy-rules')).toBe(true);
    expect(userMayCall('analyst', 'POST', '/fhir/R4/Bot/:id/$rollback')).toBe(true);
    for (const [method, route] of [
      ['POST', '/fhir/R4/Bot/:id/$deploy'],
      ['POST', '/fhir/R4/:type'],
      ['PUT', '/fhir/R4/:type/:id'],
      ['PATCH', '/fhir/R4/:type/:id'],
      ['DELETE', '/fhir/R4/:type/:id'],
      ['POST', '/fhir/R4'],
      ['POST', '/admin/projects/:id/clients'],
      ['PUT', '/admin/projects/:id/settings'],
      ['POST', '/admin/projects/:id/invitations'],
      ['POST', '/admin/projects/:id/bot'],
    ] as const) {
      expect(userMayCall('analyst', method, route), `${method} ${route}`).toBe(false);
      expect(userMayCall('viewer', method, route), `${method} ${route}`).toBe(false);
    }
    expect(userMayCall('viewer', 'POST', '/fhir/R4/Bot/$deploy-rules')).toBe(false);
    expect(userMayCall('viewer', 'POST', '/fhir/R4/Bot/$test-rules')).toBe(false);
    expect(userMayCall('viewer', 'GET', '/fhir/R4/Bot/:id/$execute')).toBe(false);
  });

  it('are fail-closed: a route no list names is refused to analysts and viewers', () => {
    expect(userMayCall('analyst', 'GET', '/some/new/route')).toBe(false);
    expect(userMayCall('viewer', 'GET', '/some/new/route')).toBe(false);
  });

  it('keep people management to administrators', () => {
    expect(userMayCall('administrator', 'POST', '/admin/projects/:id/invitations')).toBe(true);
    expect(userMayCall('bot-developer', 'POST', '/admin/projects/:id/invitations')).toBe(false);
    expect(userMayCall('bot-developer', 'DELETE', '/admin/projects/:id/users/:userId')).toBe(false);
    expect(userMayCall('bot-developer', 'POST', '/fhir/R4/Bot/:id/$deploy')).toBe(true);
  });

  it('give viewers and analysts no write scope beyond rule sets', () => {
    expect(userRoleDefinition('viewer').scope).toBe('user/*.rs');
    expect(userRoleDefinition('analyst').scope).not.toMatch(/\*\.c|\*\.u|\.d/);
    expect(userRoleDefinition('administrator').clientRole).toBe('admin');
  });
});
