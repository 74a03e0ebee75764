import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CliError, EXIT_CODE_TABLE, EXIT_CODES, EXIT_CODES_HELP } from './errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('exit codes', () => {
  it('the README table lists exactly the codes in errors.ts', () => {
    const rows = [...readme.matchAll(/^\| (\d) +\| `(\w+)` +\|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(rows)).toEqual(EXIT_CODES);
  });

  it('--help lists every code with the meaning of the one table', () => {
    for (const [name, row] of Object.entries(EXIT_CODE_TABLE)) {
      expect(EXIT_CODES_HELP, name).toContain(`\n  ${row.code}  ${row.help}\n`);
      expect(EXIT_CODES[name as keyof typeof EXIT_CODES]).toBe(row.code);
    }
  });

  it('an unknown or ambiguous bot name is the usage error --help describes', () => {
    expect(EXIT_CODE_TABLE.usage.help).toMatch(/unknown or ambiguous bot/);
    expect(EXIT_CODE_TABLE.failed.help).not.toMatch(/unknown/);
  });

  it('a CliError exits with the code of its name', () => {
    for (const [name, code] of Object.entries(EXIT_CODES)) {
      expect(new CliError(name as keyof typeof EXIT_CODES, 'x').exitCode).toBe(code);
    }
  });
});
