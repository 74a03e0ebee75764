import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './error-codes.js';
import { STATUS_ERRORS } from './error-middleware.js';

const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
const rows = [...readme.matchAll(/^\| `([a-z.-]+)` \| (\d{3}) \| ([a-z-]+) \|/gm)].map((m) => [
  m[1] as string,
  [Number(m[2]), m[3] as string],
]);

const src = new URL('..', import.meta.url);
const sources = (readdirSync(src, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('error-codes.ts'))
  .map((f) => readFileSync(new URL(f, src), 'utf8'))
  .join('\n');

describe('error catalogue', () => {
  it('infra/README.md lists exactly the codes of error-codes.ts, with their status and issue code', () => {
    expect(Object.fromEntries(rows)).toEqual(ERROR_CODES);
    expect(rows).toHaveLength(Object.keys(ERROR_CODES).length);
  });

  it('every code is answered somewhere', () => {
    const unused = Object.keys(ERROR_CODES).filter((code) => !sources.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });

  it('maps each status of a foreign error to a code with that status', () => {
    for (const [status, [code]] of Object.entries(STATUS_ERRORS)) expect(ERROR_CODES[code][0]).toBe(Number(status));
  });
});
