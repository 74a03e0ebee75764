/**
 * The routes a running server registers, read from its own routers (so a route added later is walked too), and a
 * raw HTTP client that sends a path exactly as written (fetch would resolve dot segments) with any body.
 */
import { METHODS, request as httpRequest } from 'node:http';
import { createRouters } from '@hookbot/server';
import { ownAuthentication, publicRoute } from '@hookbot/server/testing';
import { afterAll, beforeAll } from 'vitest';
import { request } from './http.js';
import { callerHeaders, type Caller } from './route-table.js';
import { startTestServer, type TestServer } from './server.js';

export interface Route {
  method: string;
  /** The route's pattern as registered, `ALL` for a layer serving every method: `POST /fhir/R4/:type`. */
  key: string;
  /** The route's path with its parameters filled with the demo tenant's ids. */
  path: string;
  access: 'public' | 'own' | 'caller';
  /** Reaches the demo tenant's resources (an `:id`) or the super-admin's API. */
  victim: 'resource' | 'admin' | undefined;
}

/**
 * The routers' route layers, `:id` filled with `botId` (the project's id under `/admin`). A layer for every method
 * (`router.all`) is walked with one method no handler serves.
 */
export function registeredRoutes(t: TestServer, botId: string): Route[] {
  const routes: Route[] = [];
  for (const router of createRouters(t.server.services)) {
    for (const layer of router.stack) {
      const pattern = layer.path;
      if (layer.methods.length === 0 || typeof pattern !== 'string') continue;
      const every = METHODS.every((m) => layer.methods.includes(m));
      // PATCH, unless a route serves it on this path (FHIR's JSON Patch): then another method no route here serves.
      const served = router.stack.filter((l) => l.path === pattern && l !== layer).flatMap((l) => l.methods);
      const unserved = ['PATCH', 'POST', 'PUT', 'DELETE'].find((m) => !served.includes(m)) ?? 'PATCH';
      const methods = every ? [unserved] : layer.methods.filter((m) => m !== 'HEAD' && m !== 'OPTIONS');
      const path = pattern.replace(/:(\w+)/g, (_, name: string) =>
        name === 'type' ? 'Bot' : name === 'vid' ? '1' : pattern.startsWith('/admin/') ? t.demo.projectId : botId,
      );
      const access = layer.stack.includes(publicRoute)
        ? 'public'
        : layer.stack.includes(ownAuthentication)
          ? 'own'
          : 'caller';
      const victim = pattern.startsWith('/admin/')
        ? 'admin'
        : layer.paramNames.some((p) => p.name === 'id')
          ? 'resource'
          : undefined;
      for (const method of methods) {
        routes.push({ method, key: `${every ? 'ALL' : method} ${pattern}`, path, access, victim });
      }
    }
  }
  return routes;
}

export const takesBody = (method: string) => ['POST', 'PUT', 'PATCH'].includes(method);

export interface SendOptions {
  token?: string | undefined;
  /** Sent as is; `{}` as JSON on a method that takes a body when absent. */
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string> | undefined;
}

export interface RawResponse {
  status: number;
  contentType: string;
  body: string;
}

export function send(t: TestServer, method: string, path: string, options: SendOptions = {}): Promise<RawResponse> {
  const url = new URL(t.url);
  const body = options.body ?? (takesBody(method) ? '{}' : undefined);
  const contentType = options.contentType ?? (body !== undefined ? 'application/json' : undefined);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
          ...(contentType ? { 'Content-Type': contentType } : {}),
          ...(body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A Bot whose code answers any input, so that running it (`$execute`) tells about the route, not about a bot. */
export async function deployPlainBot(t: TestServer, adminToken: string): Promise<string> {
  const bot = await request<{ id: string }>(`${t.url}/fhir/R4/Bot`, {
    method: 'POST',
    token: adminToken,
    json: { resourceType: 'Bot', name: 'route-walk' },
  });
  const deployed = await request(`${t.url}/fhir/R4/Bot/${bot.body.id}/$deploy`, {
    method: 'POST',
    token: adminToken,
    json: { code: 'exports.handler = async () => ({ ok: true });' },
  });
  if (deployed.status !== 200) throw new Error(`deploying the plain bot: ${deployed.status}`);
  return bot.body.id;
}

export interface WalkedServer {
  t: TestServer;
  /** What each caller sends: its bearer token, or a console user's session cookie and CSRF token. */
  headers: Record<Caller, Record<string, string>>;
  botId: string;
}

/** The server a route walk runs against, started before the file's tests: every caller's headers, a plain bot. */
export function walkedServer(): WalkedServer {
  const walked = {} as WalkedServer;
  // Longer than a hook's default: ten callers, four of them console users whose passwords are hashed (scrypt).
  beforeAll(async () => {
    walked.t = await startTestServer();
    walked.headers = await callerHeaders(walked.t);
    const adminToken = (walked.headers.admin.Authorization as string).replace(/^Bearer /, '');
    walked.botId = await deployPlainBot(walked.t, adminToken);
  }, 180_000);
  afterAll(async () => walked.t?.stop());
  return walked;
}
