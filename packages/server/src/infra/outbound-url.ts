/**
 * The SSRF guard for every URL the server fetches on someone else's say-so (an EHR's `fhirServer`, a client's
 * `jwksUri`, callbacks). Rules: https only; the host must resolve to public addresses. A project may allow listed
 * base URLs that break those rules (an EHR on a private network); loopback is only ever allowed that way in
 * development mode (`NODE_ENV=development`).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { HookbotError } from './errors.js';

export interface OutboundPolicy {
  /** Base URLs the project allows even when they are http or private (`https://ehr.internal/fhir`). */
  allowedBaseUrls?: readonly string[];
  development: boolean;
}

const blocked = (message: string, field?: string) =>
  new HookbotError(400, 'security', message, {
    issues: [{ severity: 'error', code: 'security', diagnostics: message, ...(field ? { expression: [field] } : {}) }],
  });

function ipv4Private(ip: string): boolean {
  const [a = 0, b = 0] = ip.split('.').map(Number);
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}

/** True for loopback, private, link-local, unique-local, multicast and unspecified addresses. */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(ip) === 4) return ipv4Private(ip);
  if (ip === '::' || ip === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped) return ipv4Private(mapped[1] as string);
  return /^(fc|fd|fe8|fe9|fea|feb|ff)/.test(ip);
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function withinAllowed(url: URL, allowed: readonly string[]): boolean {
  const target = url.href.replace(/\/+$/, '');
  return allowed.some((base) => {
    const b = base.replace(/\/+$/, '');
    return target === b || target.startsWith(b + '/') || target.startsWith(b + '?');
  });
}

/**
 * Checks `raw` before it is fetched. Throws a 400 (`security`) naming `field` when the URL may not be called.
 * `resolve` is injectable for tests.
 */
export async function checkOutboundUrl(
  raw: string,
  policy: OutboundPolicy,
  field?: string,
  resolve: (host: string) => Promise<string[]> = async (host) =>
    (await lookup(host, { all: true })).map((a) => a.address),
): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw blocked(`"${raw}" is not an absolute URL`, field);
  }
  if (url.username || url.password) throw blocked('URLs with credentials are not allowed', field);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw blocked(`Scheme ${url.protocol} is not allowed`, field);
  if (withinAllowed(url, policy.allowedBaseUrls ?? [])) {
    if (isLoopbackHost(url.hostname) && !policy.development) {
      throw blocked('Loopback URLs are allowed only in development mode (NODE_ENV=development)', field);
    }
    return url;
  }
  if (url.protocol !== 'https:')
    throw blocked(`${url.origin} must use https (or be an allowed base URL of the project)`, field);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : await resolve(host).catch(() => []);
  if (addresses.length === 0) throw blocked(`Cannot resolve host ${host}`, field);
  if (addresses.some(isPrivateAddress)) {
    throw blocked(
      `${url.origin} resolves to a private or loopback address; allow it as a project base URL to call it`,
      field,
    );
  }
  return url;
}
