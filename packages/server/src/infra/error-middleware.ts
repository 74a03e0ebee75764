/**
 * The one place that writes error responses. A `HookbotError` keeps its status and issues; errors raised by Koa's
 * own machinery (body parser, http-errors) are mapped by status; anything else is a 500 whose details go to the
 * log only. OAuth routes answer RFC 6749 §5.2 JSON instead of an OperationOutcome.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context, Middleware } from 'koa';
import { HookbotError, malformedJson, type Issue, type IssueType, type OAuthErrorCode } from './errors.js';
import type { RequestIds } from './request-context.js';

export const REQUEST_ID_EXTENSION = 'https://hookbot.dev/fhir/StructureDefinition/request-id';
export const TRACE_ID_EXTENSION = 'https://hookbot.dev/fhir/StructureDefinition/trace-id';

export interface OperationOutcomeBody {
  resourceType: 'OperationOutcome';
  id?: string;
  extension?: { url: string; valueString: string }[];
  issue: Issue[];
}

export function operationOutcome(issues: Issue[], ids?: RequestIds): OperationOutcomeBody {
  return {
    resourceType: 'OperationOutcome',
    ...(ids
      ? {
          id: ids.requestId,
          extension: [
            { url: REQUEST_ID_EXTENSION, valueString: ids.requestId },
            { url: TRACE_ID_EXTENSION, valueString: ids.traceId },
          ],
        }
      : {}),
    issue: issues.map((i) => ({ severity: i.severity ?? 'error', ...i })),
  };
}

export const STATUS_ISSUE: Record<number, [IssueType, string]> = {
  400: ['invalid', 'Bad request'],
  401: ['login', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not found'],
  405: ['not-supported', 'Method not allowed'],
  408: ['timeout', 'Request timeout'],
  409: ['conflict', 'Conflict'],
  412: ['conflict', 'Precondition failed'],
  413: ['too-costly', 'Request body too large'],
  415: ['not-supported', 'Unsupported content type'],
  422: ['business-rule', 'Unprocessable entity'],
  429: ['throttled', 'Too many requests'],
  431: ['too-costly', 'Request header fields too large'],
};

/** Errors thrown by koa, co-body and http-errors carry `status` and `expose`. */
interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
  type?: string;
}

function toHookbotError(err: unknown): HookbotError {
  if (err instanceof HookbotError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as HttpLikeError;
  const status = e.status ?? e.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const [code, fallback] = STATUS_ISSUE[status] ?? ['invalid', 'Bad request'];
    if (e.type === 'entity.parse.failed') return malformedJson(e.message ?? 'could not parse the body');
    let message = e.expose && e.message ? e.message : fallback;
    if (status === 413) message = 'Request body too large';
    return new HookbotError(status, code, message);
  }
  return new HookbotError(500, 'exception', 'Internal server error', { cause: err });
}

const OAUTH_BY_STATUS: Record<number, OAuthErrorCode> = { 401: 'invalid_client', 400: 'invalid_request' };

function renderOAuth(ctx: Context, error: HookbotError): void {
  ctx.body = {
    error: error.oauthError ?? OAUTH_BY_STATUS[error.status] ?? 'invalid_request',
    error_description: error.message,
  };
  ctx.set('Cache-Control', 'no-store');
}

export function errorMiddleware(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HookbotError(404, 'not-found', `No route for ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const error = toHookbotError(err);
      if (error.status >= 500) ctx.state.log?.().error({ err: error.cause ?? error }, 'unhandled error');
      ctx.status = error.status;
      for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
      if (ctx.path.startsWith('/oauth2/')) {
        renderOAuth(ctx, error);
      } else {
        ctx.type = 'application/fhir+json';
        ctx.body = operationOutcome(error.issues, ctx.state.ids);
      }
    }
  };
}

interface ClientError extends Error {
  code?: string;
}

/** What Node's HTTP parser refuses before Koa sees a request, answered as an OperationOutcome. */
const CLIENT_ERRORS: Record<string, [number, string, IssueType, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'too-costly', 'Request headers (or the URL) too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'timeout', 'The request was not received in time'],
};

/**
 * Answers requests that Node's HTTP parser rejects (oversized headers or URL, malformed requests, time-outs) with
 * an OperationOutcome instead of Node's bare status line, then closes the connection as Node would.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: ClientError, socket: Duplex) => {
    const inUse = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (err.code === 'ECONNRESET' || !socket.writable || inUse) {
      socket.destroy(err);
      return;
    }
    const [status, reason, code, diagnostics] = CLIENT_ERRORS[err.code ?? ''] ?? [
      400,
      'Bad Request',
      'structure',
      'Malformed HTTP request',
    ];
    const body = JSON.stringify(operationOutcome([{ severity: 'error', code, diagnostics }]));
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/fhir+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
