/**
 * A `fetch` for URLs chosen by others (EHR FHIR servers, JWKS URLs): every request passes the SSRF guard, and the
 * connection itself only goes to addresses the guard allows — the DNS answer is checked when the socket connects,
 * not just before, so DNS rebinding cannot slip through. Redirects are not followed; bodies are capped.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { HookbotError } from './errors.js';
import { addressRule, checkOutboundUrl, type OutboundPolicy } from './outbound-url.js';
import { injectTraceHeaders, SpanKind, traced } from './tracing.js';

const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024;

function pinnedLookup(allowed: (address: string) => boolean): LookupFunction {
  return ((hostname: string, options: LookupOneOptions | LookupAllOptions, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err);
      const refused = addresses.find((a) => !allowed(a.address));
      if (refused || addresses.length === 0) {
        return callback(Object.assign(new Error(`Refused to connect to ${hostname}`), { code: 'EHOOKBOTSSRF' }));
      }
      if (options.all) return callback(null, addresses);
      const [first] = addresses as [LookupAddress];
      return callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}

export interface OutboundFetchOptions {
  maxResponseBytes?: number;
}

/** A fetch-compatible function bound to one project's outbound policy. */
export function outboundFetch(policy: OutboundPolicy, options: OutboundFetchOptions = {}): typeof fetch {
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = await checkOutboundUrl(
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
      policy,
    );
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const method = init.method ?? 'GET';
    // The host only: a path or query can name a patient.
    const attributes = { 'http.request.method': method, 'server.address': url.hostname };
    return traced(
      method,
      attributes,
      async (span) => {
        injectTraceHeaders(headers);
        const response = await send(url, method, headers, init);
        span?.setAttribute('http.response.status_code', response.status);
        return response;
      },
      SpanKind.CLIENT,
    );
  }) as typeof fetch;

  function send(url: URL, method: string, headers: Record<string, string>, init: RequestInit): Promise<Response> {
    const transport = url.protocol === 'https:' ? https : http;
    const tooLarge = () =>
      new HookbotError('outbound.response-too-large', `The response from ${url.origin} exceeds ${maxBytes} bytes`);
    return new Promise<Response>((resolve, reject) => {
      const req = transport.request(
        url,
        {
          method,
          headers,
          lookup: pinnedLookup(addressRule(url, policy)),
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          if (Number(res.headers['content-length'] ?? 0) > maxBytes) {
            req.destroy();
            reject(tooLarge());
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              req.destroy();
              reject(tooLarge());
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            const status = res.statusCode ?? 502;
            const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
                responseHeaders.append(name, v);
            }
            resolve(new Response(body, { status, headers: responseHeaders }));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (typeof init.body === 'string') req.write(init.body);
      req.end();
    });
  }
}
