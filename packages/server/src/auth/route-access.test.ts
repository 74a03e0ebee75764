import { describe, expect, it } from 'vitest';
import { createRouter, ownAuthentication, publicRoute } from '../infra/router.js';
import { routeAccess } from './route-access.js';

describe('routeAccess', () => {
  const open = createRouter();
  open.get('/healthcheck', publicRoute, (ctx) => (ctx.body = 'ok'));
  open.post('/cds-services/:id', ownAuthentication, (ctx) => (ctx.body = 'cds'));
  const store = createRouter('/fhir/R4');
  store.get('/metadata', publicRoute, (ctx) => (ctx.body = 'metadata'));
  store.get('/:type', (ctx) => (ctx.body = 'search'));
  const routers = [open, store];

  it('reads what the route the request reaches declares', () => {
    expect(routeAccess(routers, '/healthcheck', 'GET')).toBe('public');
    expect(routeAccess(routers, '/healthcheck', 'HEAD')).toBe('public');
    expect(routeAccess(routers, '/cds-services/abc', 'POST')).toBe('own');
    expect(routeAccess(routers, '/fhir/R4/metadata', 'GET')).toBe('public');
    expect(routeAccess(routers, '/fhir/R4/Patient', 'GET')).toBe('caller');
  });

  it('needs a caller for any other spelling, method or path, routed or not', () => {
    for (const [path, method] of [
      ['/Healthcheck', 'GET'],
      ['/healthcheck/', 'GET'],
      ['/healthcheck', 'POST'],
      ['/FHIR/R4/metadata', 'GET'],
      ['/fhir/R4/Metadata', 'GET'],
      ['/fhir/R4/metadata/', 'GET'],
      ['/nowhere', 'GET'],
    ] as const)
      expect(routeAccess(routers, path, method), `${method} ${path}`).toBe('caller');
  });
});
