/**
 * What a partner is told about a failed delivery or handshake (`Subscription.error`, `$status`, the audit): a fixed
 * phrase for the kind of failure, never the error's own text, which can name resolved addresses or internal hosts,
 * or carry a response body or stack. The detail goes to the server log only.
 */
import { HookbotError } from '../infra/errors.js';

/** A failure whose message is made of fixed text and a status code, so it may be shown as it is. */
export class DeliveryFailure extends Error {}

const BY_CODE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'host unreachable',
  ETIMEDOUT: 'timed out',
  EHOOKBOTSSRF: 'address not allowed',
};

export function describeFailure(err: unknown): string {
  if (err instanceof DeliveryFailure) return err.message;
  if (err instanceof HookbotError) {
    if (err.errorCode === 'outbound.blocked-url') return 'address not allowed';
    if (err.errorCode === 'outbound.response-too-large') return 'response too large';
  }
  const { name, code } = (typeof err === 'object' && err !== null ? err : {}) as { name?: unknown; code?: unknown };
  if (name === 'AbortError' || name === 'TimeoutError') return 'timed out';
  if (typeof code === 'string' && BY_CODE[code]) return BY_CODE[code];
  if (typeof code === 'string' && /CERT|TLS|SSL/.test(code)) return 'TLS failure';
  return 'connection failed';
}
