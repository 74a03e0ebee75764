/**
 * `GET /console/…`: the web console's static files, at `/console/` (one spelling, as every route: `/console` is none) (no token: the page signs its user in with `POST /auth/session`
 * and calls the API with the session cookie). Unknown paths that are not assets answer index.html, so the browser's
 * own routes (`/console/rules/x`) survive a reload. Every answer carries a Content-Security-Policy that allows
 * nothing from outside this server, no inline script, and no style element but those carrying index.html's nonce.
 */
import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { notFound } from '../infra/errors.js';
import { createRouter, publicRoute } from '../infra/router.js';
import { loadConsoleFiles, type StaticFile } from './static-files.js';

/** The policy of every answer; `nonce` (index.html's own) lets CodeMirror's style elements in, and nothing else. */
export function consoleCsp(nonce?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // CodeMirror adds its styles as <style> elements: only those carrying this page's nonce apply.
    `style-src-elem 'self'${nonce ? ` 'nonce-${nonce}'` : ''}`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const NONCE_PLACEHOLDER = '__CSP_NONCE__';

export function consoleRouter(): Router {
  const router = createRouter();
  // Read once, on the first request: a server that never serves the console never reads it.
  let files: Promise<Map<string, StaticFile>> | undefined;
  const serve = async (ctx: Context) => {
    files ??= loadConsoleFiles();
    const all = await files;
    const rel = ctx.path.slice('/console'.length);
    let file = all.get(rel);
    // The console's own routes, spelled one way: a trailing slash (other than the root's) is no page.
    if (!file && (rel === '/' || (!rel.endsWith('/') && !rel.startsWith('/assets/') && !/\.[a-z0-9]+$/i.test(rel))))
      file = all.get('/index.html');
    if (!file) {
      throw notFound(
        'route.not-found',
        all.size === 0 ? 'The console is not built: run npm run build' : `No console file ${rel}`,
      );
    }
    if (file.contentType.startsWith('text/html')) {
      // A fresh nonce per page, in its CSP and in the page (a meta tag the console reads): the page is never cached.
      const nonce = randomBytes(16).toString('base64');
      ctx.set('Content-Security-Policy', consoleCsp(nonce));
      ctx.set('Cache-Control', 'no-store');
      ctx.type = file.contentType;
      ctx.body = file.body.toString('utf8').replace(NONCE_PLACEHOLDER, nonce);
      return;
    }
    ctx.set('Content-Security-Policy', consoleCsp());
    ctx.set('Cache-Control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.vary('Accept-Encoding');
    ctx.type = file.contentType;
    if (file.gzip && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
      ctx.set('Content-Encoding', 'gzip');
      ctx.body = file.gzip;
    } else ctx.body = file.body;
  };
  router.get('/console/', publicRoute, serve);
  router.get('/console/*path', publicRoute, serve);
  return router;
}
