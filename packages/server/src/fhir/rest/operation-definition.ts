/**
 * GET [base]/OperationDefinition/[id] and GET [base]/OperationDefinition: the definitions of the operations the
 * CapabilityStatement lists, served from code (read-only, the same for every project); answered without a token,
 * like the statement that refers to them.
 */
import type { RouterContext } from '@koa/router';
import { notFound } from '../../infra/errors.js';
import { searchOperationDefinitions } from '../capability/operation-definitions.js';
import type { Capabilities } from '../capability/statement.js';
import { param, sendJson, sendResource } from './respond.js';

export function operationDefinitionReadHandler(capabilities: () => Capabilities) {
  return (ctx: RouterContext): void => {
    const id = param(ctx, 'id');
    const definition = capabilities().operationDefinitions.find((d) => d.id === id);
    if (!definition) throw notFound('fhir.not-found', `OperationDefinition/${id} not found`);
    sendResource(ctx, definition);
  };
}

export function operationDefinitionSearchHandler(capabilities: () => Capabilities) {
  return (ctx: RouterContext): void => {
    const query = new URLSearchParams(ctx.querystring);
    const all = capabilities().operationDefinitions;
    const total = searchOperationDefinitions(
      all,
      new URLSearchParams([...query].filter(([k]) => k !== '_count' && k !== '_offset')),
    ).length;
    const matches = query.get('_summary') === 'count' ? [] : searchOperationDefinitions(all, query);
    sendJson(ctx, {
      resourceType: 'Bundle',
      type: 'searchset',
      total,
      link: [{ relation: 'self', url: `${ctx.state.baseUrl}/OperationDefinition${ctx.search}` }],
      entry: matches.map((resource) => ({
        fullUrl: `${ctx.state.baseUrl}/OperationDefinition/${resource.id ?? ''}`,
        resource,
        search: { mode: 'match' },
      })),
    });
  };
}
