import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import Koa from 'koa';
import type { Context } from 'koa';
import pino from 'pino';
import { errorMiddleware } from './error-middleware.js';
import { HookbotError } from './errors.js';
import { createLogger } from './logger.js';
import { parseTraceparent, requestContext } from './request-context.js';

/** Runs one request through the middleware, with a handler that reads the state it was given. */
async function throughMiddleware(headers: Record<string, string> = {}): Promise<Context> {
  const app = new Koa();
  const ctx = app.createContext(
    { headers, method: 'GET', url: '/x', socket: {} } as never,
    { setHeader() {}, getHeader() {}, removeHeader() {}, getHeaders: () => ({}) } as never,
  );
  await requestContext(createLogger('silent'))(ctx, async () => undefined);
  return ctx;
}

describe('requestContext', () => {
  it('keeps a valid incoming request id and trace id, and makes new ones otherwise', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const kept = await throughMiddleware({
      'x-request-id': 'ehr-req-1',
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });
    expect(kept.state.ids).toEqual({ requestId: 'ehr-req-1', traceId });
    const made = await throughMiddleware({ 'x-request-id': 'bad id with spaces', traceparent: 'nonsense' });
    expect(made.state.ids.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.state.ids.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(made.state.log()).toBe(made.state.log());
  });
});

describe('parseTraceparent', () => {
  it('takes the trace id of a version-00 header and refuses an all-zero one', () => {
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    expect(parseTraceparent(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });
});

describe('request logs', () => {
  /** Serves one request through the app's own order (errors outermost, then ids) and returns its log lines. */
  async function logLinesOf(handler: Koa.Middleware, path = '/x'): Promise<Record<string, unknown>[]> {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const app = new Koa();
    app.silent = true;
    app.use(errorMiddleware());
    app.use(requestContext(logger));
    app.use(handler);
    const server = app.listen(0);
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
      await vi.waitFor(() => expect(lines.some((l) => l.msg === 'request')).toBe(true));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    return lines.filter((l) => l.msg === 'request');
  }

  it('record the status the client received, errors included', async () => {
    const unauthorized = await logLinesOf(() => {
      throw new HookbotError('auth.missing-token', 'no token');
    });
    expect(unauthorized.map((l) => l.status)).toEqual([401]);
    const crashed = await logLinesOf(() => {
      throw new Error('boom');
    });
    expect(crashed.map((l) => l.status)).toEqual([500]);
    const ok = await logLinesOf((ctx) => {
      ctx.body = { ok: true };
    });
    expect(ok.map((l) => l.status)).toEqual([200]);
    const missing = await logLinesOf(async (_ctx, next) => next());
    expect(missing.map((l) => l.status)).toEqual([404]);
  });
});
