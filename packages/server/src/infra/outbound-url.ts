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
  new HookbotError('outbound.blocked-url', message, {
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
    (a === 192 && b === 0) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}

/** The eight 16-bit groups of an IPv6 address (with an embedded dotted IPv4 tail converted), or undefined. */
function ipv6Groups(ip: string): number[] | undefined {
  let text = ip;
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [p, q, r, t] = (dotted[2] as string).split('.').map(Number) as [number, number, number, number];
    text = `${dotted[1]}${((p << 8) | q).toString(16)}:${((r << 8) | t).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? left.length !== 8 : missing < 0) return undefined;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((g) =>
    parseInt(g || '0', 16),
  );
  return groups.some((g) => Number.isNaN(g) || g < 0 || g > 0xffff) ? undefined : groups;
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

/**
 * True for loopback, private, link-local, site-local, unique-local, multicast and unspecified addresses, including
 * IPv4 reached through IPv6 (IPv4-mapped `::ffff:0:0/96`, IPv4-translated `::ffff:0:0:0/96`, IPv4-compatible
 * `::/96`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`).
 */
export function isPrivateAddress(address: string): boolean {
  const ip = address
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/%.*$/, '');
  if (isIP(ip) === 4) return ipv4Private(ip);
  const g = ipv6Groups(ip);
  if (!g) return true;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && (g5 === 0 || g5 === 0xffff)) {
    return g5 === 0 && g6 === 0 && g7 <= 1 ? true : ipv4Private(v4(g6, g7));
  }
  // IPv4-translated (SIIT) `::ffff:0:0/96`.
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return ipv4Private(v4(g6, g7));
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return ipv4Private(v4(g6, g7));
  // Local-use NAT64 `64:ff9b:1::/48` translates to the operator's own (private) IPv4 network.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return true;
  if (g0 === 0x2002) return ipv4Private(v4(g1, g2));
  // Unique-local, link-local, (deprecated) site-local `fec0::/10`, multicast.
  return (g0 & 0xfe00) === 0xfc00 || (g0 & 0xffc0) === 0xfe80 || (g0 & 0xffc0) === 0xfec0 || (g0 & 0xff00) === 0xff00;
}

/** Loopback and unspecified addresses (127/8, 0/8, ::1, ::, and IPv4 loopback embedded in IPv6). */
export function isLoopbackAddress(address: string): boolean {
  const ip = address
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/%.*$/, '');
  if (isIP(ip) === 4) return /^(127|0)\./.test(ip);
  const g = ipv6Groups(ip);
  if (!g) return false;
  if (g.slice(0, 7).every((x) => x === 0)) return (g[7] as number) <= 1;
  const embedded = g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0);
  return embedded && isLoopbackAddress(v4(g[6] as number, g[7] as number));
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.+$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && isLoopbackAddress(host);
}

function withinAllowed(url: URL, allowed: readonly string[]): boolean {
  const target = url.href.replace(/\/+$/, '');
  return allowed.some((base) => {
    const b = base.replace(/\/+$/, '');
    return target === b || target.startsWith(b + '/') || target.startsWith(b + '?');
  });
}

/** Which resolved addresses a URL may connect to under `policy` (used before fetching and again at connect time). */
export function addressRule(url: URL, policy: OutboundPolicy): (address: string) => boolean {
  if (withinAllowed(url, policy.allowedBaseUrls ?? [])) {
    return (address) => policy.development || !isLoopbackAddress(address);
  }
  return (address) => !isPrivateAddress(address);
}

const defaultResolve = async (host: string) => (await lookup(host, { all: true })).map((a) => a.address);

/**
 * Checks `raw` before it is fetched. Throws a 400 (`security`) naming `field` when the URL may not be called.
 * `resolve` is injectable for tests. The same rule is applied again when the connection is made
 * (`outboundFetch`), so a DNS answer that changes in between (rebinding) cannot reach a refused address.
 */
export async function checkOutboundUrl(
  raw: string,
  policy: OutboundPolicy,
  field?: string,
  resolve: (host: string) => Promise<string[]> = defaultResolve,
): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw blocked(`"${raw}" is not an absolute URL`, field);
  }
  if (url.username || url.password) throw blocked('URLs with credentials are not allowed', field);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw blocked(`Scheme ${url.protocol} is not allowed`, field);
  }
  const allowed = withinAllowed(url, policy.allowedBaseUrls ?? []);
  const loopback = isLoopbackHost(url.hostname);
  if (loopback && !(allowed && policy.development)) throw blocked(loopbackRefusal(url, allowed, policy), field);
  if (!allowed && url.protocol !== 'https:') {
    throw blocked(`${url.origin} must use https (or be an allowed base URL of the project)`, field);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : await resolve(host).catch(() => []);
  if (addresses.length === 0) throw blocked(`Cannot resolve host ${host}`, field);
  const rule = addressRule(url, policy);
  if (!addresses.every(rule)) {
    throw blocked(
      addresses.some(isLoopbackAddress)
        ? loopbackRefusal(url, allowed, policy)
        : `${url.origin} resolves to a private address; allow it as a project base URL to call it`,
      field,
    );
  }
  return url;
}

/** Both conditions for calling a loopback address at once, and which of them is missing. */
function loopbackRefusal(url: URL, allowed: boolean, policy: OutboundPolicy): string {
  const missing = [
    allowed ? undefined : 'it is not an allowed base URL of the project (allowedBaseUrls in its settings)',
    policy.development ? undefined : 'the server does not run in development mode (NODE_ENV=development)',
  ].filter(Boolean);
  return `${url.origin} is a loopback address, called only when it is an allowed base URL of the project and the server runs in development mode; ${missing.join(', and ')}`;
}
