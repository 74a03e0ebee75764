/**
 * The built web console (`packages/console/dist`), read into memory once: a few hundred KB, so every answer is a
 * Map lookup, with its gzip form made once at start instead of per request.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface StaticFile {
  body: Buffer;
  gzip?: Buffer;
  contentType: string;
  /** Vite's hashed assets never change under their name; index.html must be read again every time. */
  immutable: boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Compressing what is already compressed (PNG, WOFF2) gains nothing. */
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.svg', '.txt']);

/** Beside this package in the workspace, from `src/console` and `dist/console` alike. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist', import.meta.url));

/** `/assets/x.js` → file; empty when the console was not built (the routes then say how to build it). */
export async function loadConsoleFiles(root = CONSOLE_DIST): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  if (!existsSync(path.join(root, 'index.html'))) return files;
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const ext = path.extname(entry.name);
    const contentType = CONTENT_TYPES[ext];
    if (!contentType) continue;
    const body = await readFile(full);
    const rel = `/${path.relative(root, full).split(path.sep).join('/')}`;
    files.set(rel, {
      body,
      ...(COMPRESSIBLE.has(ext) && body.length > 1024 ? { gzip: gzipSync(body, { level: 9 }) } : {}),
      contentType,
      immutable: rel.startsWith('/assets/'),
    });
  }
  return files;
}
