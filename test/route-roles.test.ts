/**
 * Every route the app registers, called in its own spelling with a token of each role (and the super-admin's, and
 * the demo project's admin), and with a console session of each user role: a caller the route table (`support/route-table.ts`) does not list is refused
 * (401/403/404/405), never served and never a crash; a caller it lists is let through (neither 401 nor 403) and
 * does not crash on an empty object body.
 */
import { describe, expect, it } from 'vitest';
import { CALLERS, ROUTE_TABLE } from './support/route-table.js';
import { registeredRoutes, send, walkedServer } from './support/routes.js';

const walked = walkedServer();

const REFUSED = [401, 403, 404, 405];

describe('every registered route, by role', () => {
  it('is classified in the route table, and the table names no route that is gone', () => {
    const keys = new Set(registeredRoutes(walked.t, walked.botId).map((r) => r.key));
    expect([...keys].filter((key) => !(key in ROUTE_TABLE))).toEqual([]);
    expect(Object.keys(ROUTE_TABLE).filter((key) => !keys.has(key))).toEqual([]);
  });

  it('agrees with the routes’ own declarations of which are public', () => {
    const routes = registeredRoutes(walked.t, walked.botId);
    const declared = routes.filter((r) => r.access === 'public').map((r) => r.key);
    expect(declared.sort()).toEqual(
      routes
        .filter((r) => ROUTE_TABLE[r.key] === 'public')
        .map((r) => r.key)
        .sort(),
    );
  });

  it('refuses every caller the table does not list, and lets those it lists through without crashing', async () => {
    const failures: string[] = [];
    // A DELETE that a caller may reach removes the demo Bot the other routes are walked on: those go last, and
    // signing out (which ends the users' sessions) after them.
    const rank = (r: { method: string; key: string }) =>
      r.key === 'DELETE /auth/session' ? 2 : Number(r.method === 'DELETE');
    const routes = registeredRoutes(walked.t, walked.botId).sort((a, b) => rank(a) - rank(b));
    for (const route of routes) {
      const allowed = ROUTE_TABLE[route.key];
      if (allowed === undefined) continue;
      for (const caller of CALLERS) {
        const res = await send(walked.t, route.method, route.path, { headers: walked.headers[caller] });
        const reaches = allowed === 'public' || allowed.includes(caller);
        const wrong = reaches ? res.status >= 500 || [401, 403].includes(res.status) : !REFUSED.includes(res.status);
        if (wrong) failures.push(`${route.method} ${route.path} (${caller}): ${res.status} ${res.body.slice(0, 300)}`);
      }
    }
    expect(failures).toEqual([]);
    // Every route for ten callers, four of them console sessions: longer than a test's default.
  }, 180_000);
});
