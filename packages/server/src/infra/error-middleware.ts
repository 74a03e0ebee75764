/**
 * The one place that writes error responses. A `HookbotError` keeps its status and issues; errors raised by Koa's
 * own machinery (body parser, http-errors) are mapped by status; anything else is a 500 whose details go to the
 * log only. OAuth routes answer RFC 6749 §5.2 JSON instead of an OperationOutcome.
 */
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context, Middleware } from 'koa';
import { ERROR_CODE_SYSTEM, ERROR_CODES, type ErrorCode } from './error-codes.js';
import { HookbotError, malformedJson, type Issue, type OAuthErrorCode } from './errors.js';
import type { RequestIds } from './request-context.js';
import { isUnavailable, unavailable } from './unavailable.js';

export const REQUEST_ID_EXTENSION = 'https://hookbot.dev/fhir/StructureDefinition/request-id';
export const TRACE_ID_EXTENSION = 'https://hookbot.dev/fhir/StructureDefinition/trace-id';

export interface OperationOutcomeBody {
  resourceType: 'OperationOutcome';
  id?: string;
  extension?: { url: string; valueString: string }[];
  issue: (Issue & { details: { coding: { system: string; code: ErrorCode }[] } })[];
}

/**
 * `OperationOutcome.id` as Medplum's clients read it (`@medplum/core` outcomes.ts: `isNotFound`, `isGone`,
 * `getStatus` compare the id with these codes); a status without one has no id. The request id is in the
 * extensions and the `X-Request-Id` header.
 */
const MEDPLUM_OUTCOME_IDS: Record<number, string> = {
  200: 'ok',
  201: 'created',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  410: 'gone',
  412: 'precondition-failed',
  422: 'business-rule',
  429: 'too-many-requests',
  504: 'server-timeout',
};

const idExtensions = (ids: RequestIds) => [
  { url: REQUEST_ID_EXTENSION, valueString: ids.requestId },
  { url: TRACE_ID_EXTENSION, valueString: ids.traceId },
];

/** Each issue carries the Hookbot error code beside its FHIR code. */
export function operationOutcome(
  issues: Issue[],
  code: ErrorCode,
  ids?: RequestIds,
  status: number = ERROR_CODES[code][0],
): OperationOutcomeBody {
  const id = MEDPLUM_OUTCOME_IDS[status];
  return {
    resourceType: 'OperationOutcome',
    ...(id ? { id } : {}),
    ...(ids ? { extension: idExtensions(ids) } : {}),
    issue: issues.map((i) => ({
      severity: i.severity ?? 'error',
      ...i,
      details: { coding: [{ system: ERROR_CODE_SYSTEM, code }] },
    })),
  };
}

/** A success answered as an OperationOutcome (Medplum's `allOk`, `created`): what was done, in `details.text`. */
export function successOutcome(text: string, ids: RequestIds | undefined, status: 200 | 201 = 200) {
  return {
    resourceType: 'OperationOutcome' as const,
    id: MEDPLUM_OUTCOME_IDS[status],
    ...(ids ? { extension: idExtensions(ids) } : {}),
    issue: [{ severity: 'information' as const, code: 'informational' as const, details: { text } }],
  };
}

/** The code of an error another library (Koa, co-body, http-errors) raised with the code's status, and its wording. */
const FOREIGN_ERRORS: [ErrorCode, string][] = [
  ['request.invalid', 'Bad request'],
  ['auth.invalid-token', 'Unauthorized'],
  ['auth.forbidden-scope', 'Forbidden'],
  ['route.not-found', 'Not found'],
  ['request.method-not-allowed', 'Method not allowed'],
  ['request.timeout', 'Request timeout'],
  ['fhir.conflict', 'Conflict'],
  ['fhir.precondition-failed', 'Precondition failed'],
  ['request.body-too-large', 'Request body too large'],
  ['request.unsupported-media-type', 'Unsupported content type'],
  ['request.unprocessable', 'Unprocessable entity'],
  ['request.rate-limited', 'Too many requests'],
  ['request.headers-too-large', 'Request header fields too large'],
  ['request.method-not-implemented', 'Method not implemented'],
];

/** `FOREIGN_ERRORS` by status: the status is the code's own (`error-codes.ts`), stated once. */
export const STATUS_ERRORS: Record<number, [ErrorCode, string]> = Object.fromEntries(
  FOREIGN_ERRORS.map((entry) => [ERROR_CODES[entry[0]][0], entry]),
);

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
  // A client's error, or a method no route knows (the router's 501): neither is the server's fault.
  if ((status >= 400 && status < 500) || status === 501) {
    const [code, fallback] = STATUS_ERRORS[status] ?? ['request.invalid', 'Bad request'];
    if (e.type === 'entity.parse.failed') return malformedJson(e.message ?? 'could not parse the body');
    // A body too large is worded the same whatever the library said.
    const message = e.expose && e.message && status !== 413 ? e.message : fallback;
    return new HookbotError(code, message, { status });
  }
  // A store that went away (PostgreSQL restarting): retrying succeeds once it is back, so 503, not 500.
  if (isUnavailable(err)) return unavailable('a store this server depends on', err);
  return new HookbotError('server.internal', 'Internal server error', { cause: err });
}

const OAUTH_BY_STATUS: Record<number, OAuthErrorCode> = { 401: 'invalid_client', 400: 'invalid_request' };

/** The userinfo endpoint is a protected resource: its errors are RFC 6750's (OpenID Connect Core §5.3.3). */
const BEARER_BY_STATUS: Record<number, string> = { 401: 'invalid_token', 403: 'insufficient_scope' };

function renderOAuth(ctx: Context, error: HookbotError): void {
  const bearer = ctx.path === '/oauth2/userinfo' ? BEARER_BY_STATUS[error.status] : undefined;
  ctx.body = {
    error: bearer ?? error.oauthError ?? OAUTH_BY_STATUS[error.status] ?? 'invalid_request',
    error_description: error.message,
  };
  ctx.set('Cache-Control', 'no-store');
}

export function errorMiddleware(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HookbotError('route.not-found', `No route for ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const error = toHookbotError(err);
      if (error.errorCode === 'server.unavailable') {
        // Expected during an outage, once per refused request: the cause's message, not a stack each time.
        const cause = (error.cause ?? error) as { message?: string; code?: string };
        ctx.state.log?.().warn({ err: { message: cause.message, code: cause.code } }, 'store unavailable');
      } else if (error.status >= 500) ctx.state.log?.().error({ err: error.cause ?? error }, 'unhandled error');
      ctx.status = error.status;
      for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
      if (ctx.path.startsWith('/oauth2/')) {
        renderOAuth(ctx, error);
      } else {
        ctx.type = 'application/fhir+json';
        ctx.body = operationOutcome(error.issues, error.errorCode, ctx.state.ids, error.status);
      }
    }
  };
}

interface ClientError extends Error {
  code?: string;
}

/** What Node's HTTP parser refuses before Koa sees a request, answered as an OperationOutcome. */
const CLIENT_ERRORS: Record<string, [ErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: ['request.headers-too-large', 'Request headers (or the URL) too large'],
  ERR_HTTP_REQUEST_TIMEOUT: ['request.timeout', 'The request was not received in time'],
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
    const [errorCode, diagnostics] = CLIENT_ERRORS[err.code ?? ''] ?? [
      'request.malformed-http',
      'Malformed HTTP request',
    ];
    const [status, code] = ERROR_CODES[errorCode];
    const body = JSON.stringify(
      operationOutcome([{ severity: 'error', code, diagnostics }], errorCode, undefined, status),
    );
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/fhir+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
