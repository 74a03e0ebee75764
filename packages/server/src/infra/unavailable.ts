/**
 * A store this instance depends on (PostgreSQL, Redis) that does not answer: the request is refused with a 503
 * `server.unavailable` and `Retry-After`, never a 500, since retrying once the store is back succeeds. Errors are
 * recognised by what the drivers (pg, ioredis) report for a lost or refused connection, not by their wording alone.
 */
import { HookbotError } from './errors.js';

/** Seconds a client is told to wait: PostgreSQL restarts and Redis reconnects take seconds. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** Socket-level failures, as Node reports them to both drivers. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * SQLSTATE of a server going away or not accepting connections yet: class 08 (connection exception), 57P01
 * admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or in recovery).
 */
const isUnavailableSqlState = (code: string) => code.startsWith('08') || /^57P0[123]$/.test(code);

/** What pg and ioredis throw for a connection that ended or never came, without a code. */
const CONNECTION_MESSAGES = [
  'Connection terminated', // pg: the server closed the connection during a query
  'not queryable', // pg: a pooled client whose connection failed
  'timeout exceeded when trying to connect', // pg-pool
  'Connection is closed', // ioredis
  'Reached the max retries per request limit', // ioredis: the command waited through its reconnection attempts
];

export function isUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || isUnavailableSqlState(code))) return true;
  return typeof message === 'string' && CONNECTION_MESSAGES.some((m) => message.includes(m));
}

/** The 503 for `what` ("the database", "shared state") that does not answer; the cause goes to the log. */
export function unavailable(what: string, cause?: unknown): HookbotError {
  return new HookbotError('server.unavailable', `Service unavailable: ${what} does not answer; retry`, {
    headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
    cause,
  });
}
