import type { Context } from 'koa';
import { describe, expect, it } from 'vitest';
import { clearSessionCookie, csrfTokenOf, setSessionCookie } from './sessions.js';

/** The Set-Cookie values a handler appends. */
function cookiesSet(set: (ctx: Context) => void): string[] {
  const headers: string[] = [];
  set({ append: (_name: string, value: string) => headers.push(value) } as unknown as Context);
  return headers;
}

describe('session cookies', () => {
  it('are HttpOnly, SameSite=Strict, for the whole site, and Secure when the base URL is https', () => {
    const [https] = cookiesSet((ctx) => setSessionCookie(ctx, { baseUrl: 'https://hookbot.example' }, 'secret'));
    expect(https).toBe('hookbot_session=secret; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure');
    const [http] = cookiesSet((ctx) => setSessionCookie(ctx, { baseUrl: 'http://localhost:8103' }, 'secret'));
    expect(http).not.toContain('Secure');
    const [cleared] = cookiesSet((ctx) => clearSessionCookie(ctx, { baseUrl: 'https://hookbot.example' }));
    expect(cleared).toMatch(/^hookbot_session=; Path=\/; Max-Age=0;/);
  });

  it('have a CSRF token derived from the secret, which does not reveal it', () => {
    const token = csrfTokenOf('a'.repeat(43));
    expect(token).toBe(csrfTokenOf('a'.repeat(43)));
    expect(token).not.toBe(csrfTokenOf('b'.repeat(43)));
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(token).not.toContain('aaaa');
  });
});
