/**
 * The TLS client certificate a request presents (RFC 8705): on the TLS listener, the connection's own; behind a
 * TLS-terminating proxy, the one the proxy passes in `HOOKBOT_CLIENT_CERT_HEADER` (URL-encoded PEM), believed only
 * on connections from `HOOKBOT_CLIENT_CERT_PROXIES`. Both are remembered (per connection, per header value), so a
 * request pays for parsing a certificate once per connection at most, and only when it needs one.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Config } from '../infra/config.js';

export interface PresentedCertificate {
  /** `x5t#S256` (RFC 8705 §3.1): the base64url SHA-256 of the certificate's DER. */
  thumbprint: string;
  /** The subject as Node prints it: one `type=value` per line, in certificate order (country first). */
  subject: string;
  /** Issued by a CA of `TLS_CLIENT_CA` and within its validity now: what `tls_client_auth` needs. */
  trusted: boolean;
}

type CertificateConfig = Pick<Config, 'clientCas' | 'clientCertHeader'>;

export const thumbprintOf = (cert: X509Certificate): string =>
  createHash('sha256').update(cert.raw).digest('base64url');

/**
 * A registered thumbprint in its canonical form (base64url), from base64url or hex (with or without the colons
 * `openssl x509 -fingerprint -sha256` prints); undefined when it is neither.
 */
export function canonicalThumbprint(value: string): string | undefined {
  const hex = value.replace(/:/g, '');
  if (/^[0-9a-fA-F]{64}$/.test(hex)) return Buffer.from(hex, 'hex').toString('base64url');
  return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

const bySocket = new WeakMap<TLSSocket, PresentedCertificate | null>();
/**
 * Header values seen, with the certificate's validity: whether it is trusted is decided again on each use. Keyed by
 * the value's length and tail (the signature's end), then compared whole: hashing a whole PEM costs ~5 µs a request.
 */
const byHeader = new Map<
  string,
  { value: string; cert: Omit<PresentedCertificate, 'trusted'>; caIssued: boolean; notAfter: number }
>();
const MAX_HEADER_CERTS = 1000;

export function presentedCertificate(
  req: IncomingMessage,
  config: CertificateConfig,
): PresentedCertificate | undefined {
  const socket = req.socket;
  if (socket instanceof TLSSocket) {
    // Renegotiation is off on the listener, so a connection's certificate never changes.
    let found = bySocket.get(socket);
    if (found === undefined) {
      const cert = socket.getPeerX509Certificate();
      found = cert
        ? {
            thumbprint: thumbprintOf(cert),
            subject: cert.subject,
            trusted: config.clientCas.length > 0 && socket.authorized,
          }
        : null;
      bySocket.set(socket, found);
    }
    if (found) return found;
  }
  const header = config.clientCertHeader;
  const value = header && req.headers[header.name];
  if (typeof value !== 'string' || !value || !fromProxy(socket, header.proxies)) return undefined;
  const key = `${value.length}:${value.slice(-96)}`;
  let seen = byHeader.get(key);
  if (seen?.value !== value) {
    const cert = parseEscapedPem(value);
    if (!cert) return undefined;
    if (byHeader.size >= MAX_HEADER_CERTS) byHeader.clear();
    const caIssued = config.clientCas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    seen = {
      value,
      cert: { thumbprint: thumbprintOf(cert), subject: cert.subject },
      caIssued: caIssued && Date.parse(cert.validFrom) <= Date.now(),
      notAfter: Date.parse(cert.validTo),
    };
    byHeader.set(key, seen);
  }
  return { ...seen.cert, trusted: seen.caIssued && Date.now() <= seen.notAfter };
}

/** Per connection: a `BlockList` check costs ~7 µs, and a connection's peer never changes. */
const proxySockets = new WeakMap<Socket, boolean>();

function fromProxy(socket: Socket, proxies: NonNullable<Config['clientCertHeader']>['proxies']): boolean {
  let trusted = proxySockets.get(socket);
  if (trusted === undefined) {
    const address = socket.remoteAddress ?? '';
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    trusted =
      address !== '' &&
      (v4 ? proxies.check(v4, 'ipv4') : proxies.check(address, address.includes(':') ? 'ipv6' : 'ipv4'));
    proxySockets.set(socket, trusted);
  }
  return trusted;
}

function parseEscapedPem(value: string): X509Certificate | undefined {
  try {
    return new X509Certificate(decodeURIComponent(value));
  } catch {
    return undefined;
  }
}

/**
 * Whether a certificate's subject (as Node prints it) is the registered DN: an RFC 4514 string (`CN=partner,O=Acme,
 * C=US`), or the same RDNs in the certificate's order, as `openssl x509 -subject` prints them (tools disagree on
 * the direction, and the RDNs themselves must all match either way). Attribute types and values compare
 * case-insensitively, with escapes undone and runs of spaces folded (RFC 4517 distinguishedNameMatch, as far as
 * string attributes go).
 */
export function subjectDnMatches(registered: string, subject: string): boolean {
  const wanted = splitUnescaped(registered, ',').map(normalRdn).join(',');
  const actual = subject.split('\n').map(normalRdn);
  return wanted === actual.join(',') || wanted === actual.reverse().join(',');
}

/** Separators not escaped by a backslash (preceded by an even number of them). */
const UNESCAPED = { ',': /(?<=(?:^|[^\\])(?:\\\\)*),/, '+': /(?<=(?:^|[^\\])(?:\\\\)*)\+/ };
const splitUnescaped = (value: string, separator: ',' | '+'): string[] => value.split(UNESCAPED[separator]);

const TYPE_ALIASES: Record<string, string> = { E: 'EMAILADDRESS', EMAIL: 'EMAILADDRESS' };

/** One RDN, multi-valued ones sorted: `type=value` pairs, types upper-cased, values unescaped and lower-cased. */
function normalRdn(rdn: string): string {
  return splitUnescaped(rdn, '+')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const type = pair.slice(0, eq).trim().toUpperCase();
      return `${TYPE_ALIASES[type] ?? type}=${unescapeValue(pair.slice(eq + 1).trim())
        .replace(/\s+/g, ' ')
        .toLowerCase()}`;
    })
    .sort()
    .join('+');
}

/** RFC 4514 §2.4 escapes undone: `\,` is a comma, `\c3\a9` the UTF-8 bytes of é. */
function unescapeValue(value: string): string {
  try {
    return decodeURIComponent(
      value.replace(/\\([0-9a-fA-F]{2})|\\(.)|([^\\])/gsu, (_, hex?: string, escaped?: string, plain?: string) =>
        hex ? `%${hex}` : encodeURIComponent(escaped ?? plain ?? ''),
      ),
    );
  } catch {
    return value;
  }
}
