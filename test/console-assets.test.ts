/**
 * The console's first load — the JavaScript and CSS that index.html makes the browser fetch before anything is
 * shown (its module script, stylesheets and module preloads), compressed as the server sends them — stays under
 * 500 KB. Reads the built assets (`npm run build`, which `npm test` runs first).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const DIST = path.join(import.meta.dirname, '../packages/console/dist');
const BUDGET_BYTES = 500 * 1024;

describe('the console’s built assets', () => {
  it('are built, and the first load is under 500 KB compressed', async () => {
    expect(existsSync(path.join(DIST, 'index.html')), 'packages/console/dist: run npm run build').toBe(true);
    const html = await readFile(path.join(DIST, 'index.html'), 'utf8');
    const urls = [
      ...html.matchAll(/<script[^>]+src="([^"]+)"/g),
      ...html.matchAll(/<link[^>]+rel="(?:stylesheet|modulepreload)"[^>]+href="([^"]+)"/g),
      ...html.matchAll(/<link[^>]+href="([^"]+)"[^>]+rel="(?:stylesheet|modulepreload)"/g),
    ].map((m) => m[1] as string);
    expect(urls.some((u) => u.endsWith('.js'))).toBe(true);
    expect(urls.some((u) => u.endsWith('.css'))).toBe(true);
    // Everything comes from this server: no URL with a host.
    expect(urls.filter((u) => !u.startsWith('/console/assets/'))).toEqual([]);
    let total = 0;
    for (const url of new Set(urls)) {
      const body = await readFile(path.join(DIST, url.slice('/console/'.length)));
      total += gzipSync(body, { level: 9 }).length;
    }
    expect(total).toBeLessThan(BUDGET_BYTES);
  });
});
