/** `/admin`: tenants and their clients, for the super-admin. */
import type Router from '@koa/router';
import { requireAdmin } from '../auth/middleware.js';
import { badRequest } from '../infra/errors.js';
import { createRouter } from '../infra/router.js';
import type { Services } from '../services.js';
import { checkNewClient, createClient } from '../auth/clients.js';
import { replaceKeys, rotateSecret } from './credentials.js';
import { resealSecrets } from './reseal-secrets.js';
import { createProject, listProjects, requireProject } from './projects.js';
import { checkProjectSettings, describeSettings, type ProjectSettings } from './settings.js';

export function adminRouter(services: Services): Router {
  const { db } = services;
  const router = createRouter('/admin');
  // On each route rather than `router.use`: the check belongs to the route, whatever reaches it.
  const admin = requireAdmin();

  router.get('/projects', admin, async (ctx) => {
    ctx.body = { projects: await listProjects(db) };
  });

  router.post('/projects', admin, async (ctx) => {
    const body = ctx.request.body as { name?: unknown } | undefined;
    const name = typeof body?.name === 'string' ? body.name.trim() : '';
    if (!name) throw badRequest('admin.invalid-request', '"name" is required', 'name');
    const result = await db.transaction(async (tx) => {
      const project = await createProject(tx, name);
      const client = await createClient(tx, project.id, { name: `${name} default client` });
      return { project, client };
    });
    ctx.status = 201;
    ctx.body = result;
  });

  router.post('/projects/:id/clients', admin, async (ctx) => {
    const input = checkNewClient(ctx.request.body, { development: services.config.development });
    await requireProject(db, ctx.params.id as string);
    const created = await createClient(db, ctx.params.id as string, input);
    if (input.issuer) await services.issuers.changed(input.issuer);
    ctx.status = 201;
    ctx.body = created;
  });

  router.post('/projects/:id/clients/:clientId/secret', admin, async (ctx) => {
    ctx.body = await rotateSecret(services, ctx.params.id as string, ctx.params.clientId as string);
  });

  router.put('/projects/:id/clients/:clientId/keys', admin, async (ctx) => {
    ctx.body = await replaceKeys(services, ctx.params.id as string, ctx.params.clientId as string, ctx.request.body);
  });

  // A new token-signing key on every instance; the replaced one verifies what it signed until that expires.
  router.post('/signing-keys', admin, async (ctx) => {
    ctx.status = 201;
    ctx.body = await services.key.rotate(services.shared);
  });

  // Once every instance seals with the new secrets key: what the old key sealed, sealed again with the new one.
  router.post('/secrets/reseal', admin, async (ctx) => {
    ctx.body = await resealSecrets(db, services.secretsKey);
  });

  router.put('/projects/:id/settings', admin, async (ctx) => {
    await requireProject(db, ctx.params.id as string);
    const settings: ProjectSettings = checkProjectSettings(ctx.request.body);
    await services.settings.set(ctx.params.id as string, settings);
    ctx.body = describeSettings(settings);
  });

  return router;
}
