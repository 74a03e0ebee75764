import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STATUS_ISSUE } from './error-middleware.js';

const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
const rows = [...readme.matchAll(/^\| (\d{3}) \| ([a-z-]+) \|/gm)].map((m) => [Number(m[1]), m[2] as string] as const);

describe('error catalogue', () => {
  it('lists every status the error middleware maps, with the same issue code', () => {
    expect(rows.length).toBeGreaterThan(10);
    const documented = new Map<number, string>();
    for (const [status, code] of rows) if (!documented.has(status)) documented.set(status, code);
    for (const [status, [code]] of Object.entries(STATUS_ISSUE)) {
      expect(documented.get(Number(status)), `status ${status} in infra/README.md`).toBe(code);
    }
  });
});
