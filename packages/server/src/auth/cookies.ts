/** Cookies of browser sessions (a member's sign-in pages, the console), always `HttpOnly`. */
import type { Context } from 'koa';

export interface CookieOptions {
  path: string;
  /** Seconds; 0 clears the cookie. */
  maxAge: number;
  sameSite: 'Strict' | 'Lax';
  secure: boolean;
}

/**
 * Set by hand: Koa's cookies refuse `Secure` on a plain-HTTP request, which is how a server behind a TLS proxy that
 * is not trusted for `X-Forwarded-Proto` sees every request.
 */
export function setCookie(ctx: Context, name: string, value: string, options: CookieOptions): void {
  const attributes = [`Path=${options.path}`, `Max-Age=${options.maxAge}`, 'HttpOnly', `SameSite=${options.sameSite}`];
  if (options.secure) attributes.push('Secure');
  ctx.append('Set-Cookie', [`${name}=${value}`, ...attributes].join('; '));
}
