/**
 * The FHIR REST route table, mounted by the app at `/fhir/R4`. Handlers read the caller's repository from
 * `ctx.state.repo`; errors are thrown as HookbotError and rendered by the error middleware.
 */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { RouterContext } from '@koa/router';
import { createRouter, publicRoute } from '../infra/router.js';
import { HookbotError } from '../infra/errors.js';
import { bundleHandler } from './rest/bundle.js';
import { conditionalDeleteHandler, conditionalUpdateHandler } from './rest/conditional.js';
import { createHandler } from './rest/create.js';
import { deleteHandler } from './rest/delete.js';
import { acceptJsonOnly } from './rest/format.js';
import { historyHandler, systemHistoryHandler, typeHistoryHandler } from './rest/history.js';
import type { Capabilities } from './capability/statement.js';
import { metadataHandler } from './rest/metadata.js';
import { operationDefinitionReadHandler, operationDefinitionSearchHandler } from './rest/operation-definition.js';
import { patchHandler } from './rest/patch.js';
import { readHandler, vreadHandler } from './rest/read.js';
import { searchHandler, searchPostHandler } from './rest/search.js';
import { updateHandler } from './rest/update.js';

/** `capabilities`: the statement of the whole app (its routes), built on first use (`capability/statement.ts`). */
export function fhirRouter(capabilities: () => Capabilities): Router {
  const router = createRouter();
  router.use(acceptJsonOnly);
  router.get('/metadata', publicRoute, metadataHandler(capabilities));
  allowOnly(router, '/metadata', ['GET']);

  // Before the store's `/:type` routes: definitions are served from code, never written (405 with `Allow`).
  router.get('/OperationDefinition', publicRoute, operationDefinitionSearchHandler(capabilities));
  allowOnly(router, '/OperationDefinition', ['GET']);
  router.get('/OperationDefinition/:id', publicRoute, operationDefinitionReadHandler(capabilities));
  allowOnly(router, '/OperationDefinition/:id', ['GET']);

  // Before `/:type` and `/:type/:id`, which would take `_history` for a type or an id.
  router.get('/_history', systemHistoryHandler);
  allowOnly(router, '/_history', ['GET']);
  router.get('/:type/_history', typeHistoryHandler);
  allowOnly(router, '/:type/_history', ['GET']);

  router.get('/:type', searchHandler);
  router.post('/:type', createHandler);
  router.put('/:type', conditionalUpdateHandler);
  router.delete('/:type', conditionalDeleteHandler);
  allowOnly(router, '/:type', ['GET', 'POST', 'PUT', 'DELETE']);

  router.post('/:type/_search', searchPostHandler);
  allowOnly(router, '/:type/_search', ['POST']);

  router.get('/:type/:id/_history/:vid', vreadHandler);
  allowOnly(router, '/:type/:id/_history/:vid', ['GET']);

  router.get('/:type/:id/_history', historyHandler);
  allowOnly(router, '/:type/:id/_history', ['GET']);

  router.get('/:type/:id', readHandler);
  router.put('/:type/:id', updateHandler);
  router.patch('/:type/:id', patchHandler);
  router.delete('/:type/:id', deleteHandler);
  allowOnly(router, '/:type/:id', ['GET', 'PUT', 'PATCH', 'DELETE']);
  return router;
}

/**
 * `POST /fhir/R4`, transaction and batch Bundles: a router of its own because a strict router under the `/fhir/R4`
 * prefix cannot serve the bare prefix. `context` is the FHIR router's (the caller's repository).
 */
export function bundleRouter(maxBundleEntries: number, ...context: Middleware[]): Router {
  const router = createRouter();
  router.use(...context);
  // With a trailing slash too: fhir-kit-client posts its Bundles to `[base]/`.
  for (const path of ['/fhir/R4', '/fhir/R4/']) {
    router.post(path, acceptJsonOnly, bundleHandler(maxBundleEntries));
    allowOnly(router, path, ['POST']);
  }
  return router;
}

/** 405 with `Allow` for any other method on a path the store serves. */
export function allowOnly(router: Router, path: string, methods: string[]): void {
  const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])];
  router.all(path, (ctx: RouterContext, next) => {
    if (allow.includes(ctx.method) || ctx.method === 'OPTIONS') {
      return next();
    }
    throw new HookbotError('request.method-not-allowed', `${ctx.method} is not supported on this path`, {
      headers: { Allow: allow.join(', ') },
    });
  });
}
