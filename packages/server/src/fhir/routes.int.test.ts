import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { Server } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import '../koa-state.js';
import { bodyParsing } from '../infra/body.js';
import { errorMiddleware } from '../infra/error-middleware.js';
import { auditEvent, bot, patient, testAccess } from '../testing/fixtures.js';
import { withStores } from '../testing/stores.js';
import { servedRoutes } from './capability/served-routes.js';
import { lazyCapabilities } from './capability/statement.js';
import { createRepository } from './repository.js';
import { fhirRouter } from './routes.js';

withStores('FHIR routes', (getDb) => {
  let server: Server;
  let base = '';
  const access = testAccess(undefined, { Patient: 'cruds', Bot: 'cruds', Coverage: 'r', AuditEvent: 'cruds' });

  beforeAll(async () => {
    const app = new Koa();
    app.use(errorMiddleware());
    for (const middleware of bodyParsing(1_000_000)) {
      app.use(middleware);
    }
    const fhir = new Router({ prefix: '/fhir/R4' });
    fhir.use(async (ctx, next) => {
      ctx.state.baseUrl = `${base}/fhir/R4`;
      ctx.state.repo = createRepository(getDb(), access, { baseUrl: ctx.state.baseUrl });
      await next();
    });
    const routes = fhirRouter(
      lazyCapabilities(() => ({
        fhirBase: `${base}/fhir/R4`,
        routes: servedRoutes([fhir]),
        operations: [],
        security: { smartConfiguration: `${base}/.well-known/smart-configuration`, tokenEndpoint: '/t', cors: true },
      })),
    );
    fhir.use(routes.routes(), routes.allowedMethods());
    app.use(fhir.routes());
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/fhir/R4${path}`, {
      method,
      headers: { 'content-type': 'application/fhir+json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };

  it('create → 201 with Location and ETag; read, vread, update with If-Match, history, delete', async () => {
    const created = await call('POST', '/Patient', patient({ gender: 'female' }));
    expect(created.status).toBe(201);
    const id = String(created.json.id);
    expect(created.headers.get('location')).toBe(`${base}/fhir/R4/Patient/${id}/_history/1`);
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(created.headers.get('content-type')).toContain('application/fhir+json');

    expect((await call('GET', `/Patient/${id}`)).json.gender).toBe('female');
    expect((await call('GET', `/Patient/${id}/_history/1`)).status).toBe(200);

    const updated = await call('PUT', `/Patient/${id}`, { ...created.json, gender: 'male' }, { 'If-Match': 'W/"1"' });
    expect(updated.status).toBe(200);
    expect(updated.headers.get('etag')).toBe('W/"2"');
    const stale = await call('PUT', `/Patient/${id}`, { ...created.json, gender: 'other' }, { 'If-Match': 'W/"1"' });
    expect(stale.status).toBe(412);
    expect(stale.json.resourceType).toBe('OperationOutcome');

    const history = await call('GET', `/Patient/${id}/_history`);
    expect(history.json.type).toBe('history');
    expect((await call('DELETE', `/Patient/${id}`)).status).toBe(204);
    expect((await call('GET', `/Patient/${id}`)).status).toBe(410);
  });

  it('PUT to a new id creates (201); mismatched id or type is 400', async () => {
    expect((await call('PUT', '/Patient/new-one', patient({ id: 'new-one' }))).status).toBe(201);
    expect((await call('PUT', '/Patient/other', patient({ id: 'new-one' }))).status).toBe(400);
    expect((await call('POST', '/Patient', bot('x'))).status).toBe(400);
    expect((await call('POST', '/Patient', '[1,2]')).status).toBe(400);
  });

  it('searches with GET and POST _search (form-encoded)', async () => {
    await call('POST', '/Bot', bot('signer', 'order-sign'));
    const get = await call('GET', '/Bot?cds-hook=order-sign');
    expect(get.json.type).toBe('searchset');
    expect((get.json.entry as unknown[]).length).toBe(1);
    const post = await call('POST', '/Bot/_search?_total=accurate', 'cds-hook:present=true', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(post.status).toBe(200);
    expect(post.json.total).toBe(1);
  });

  it('answers 400 naming an unknown parameter, 400 for an unknown type, 403 for a missing scope', async () => {
    const unknown = await call('GET', '/Patient?shoe-size=44');
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json)).toContain('shoe-size');
    expect((await call('GET', '/Spaceship')).status).toBe(400);
    expect((await call('POST', '/Coverage', { resourceType: 'Coverage' })).status).toBe(403);
  });

  it('answers 405 with Allow for unsupported methods on known paths', async () => {
    const res = await call('POST', '/Patient/x', {});
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, PUT, PATCH, DELETE, HEAD');
    expect((await call('PATCH', '/Patient', {})).status).toBe(405);
    expect((await call('GET', '/Patient/_search')).status).toBe(405);
    expect((await call('POST', '/metadata', {})).status).toBe(405);
  });

  it('answers 405 with Allow to an update or delete of an AuditEvent, which stays readable', async () => {
    const created = await call('POST', '/AuditEvent', auditEvent('b1'));
    expect(created.status).toBe(201);
    const id = String(created.json.id);
    for (const [method, body] of [
      ['PUT', { ...created.json, outcome: '8' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await call(method, `/AuditEvent/${id}`, body);
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(res.json.resourceType).toBe('OperationOutcome');
    }
    expect((await call('GET', `/AuditEvent/${id}`)).json).toEqual(created.json);
    expect((await call('GET', `/AuditEvent/${id}/_history/1`)).json).toEqual(created.json);
  });

  it('serves a CapabilityStatement listing the types, their interactions and the cds-hook parameter', async () => {
    const res = await call('GET', '/metadata');
    expect(res.json.resourceType).toBe('CapabilityStatement');
    type Listed = { type: string; interaction: { code: string }[]; searchParam: { name: string }[] };
    const rest = (res.json.rest as { resource: Listed[] }[])[0];
    expect(rest?.resource.map((r) => r.type)).toContain('ExplanationOfBenefit');
    const botParams = rest?.resource.find((r) => r.type === 'Bot')?.searchParam.map((p) => p.name);
    expect(botParams).toContain('cds-hook');
    const interactions = (type: string) => rest?.resource.find((r) => r.type === type)?.interaction.map((i) => i.code);
    expect(interactions('Patient')).toEqual(expect.arrayContaining(['update', 'delete']));
    expect(interactions('AuditEvent')).toEqual([
      'read',
      'vread',
      'history-instance',
      'history-type',
      'create',
      'search-type',
    ]);
  });
});
