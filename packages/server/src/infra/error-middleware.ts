/**
 * The one place that writes error responses. A `HookbotError` keeps its status and issues; errors raised by Koa's
 * own machinery (body parser, http-errors) are mapped by status; anything else is a 500 whose details go to the
 * log only. OAuth routes answer RFC 6749 §5.2 JSON instead of an OperationOutcome.
 */
import type { Context, Middleware } from 'koa';
import { HookbotError, type Issue, type IssueType, type OAuthErrorCode } from './errors.js';
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
    let message = e.expose && e.message ? e.message : fallback;
    if (e.type === 'entity.parse.failed') message = `Malformed JSON: ${e.message ?? 'could not parse the body'}`;
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
