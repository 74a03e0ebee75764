/**
 * The README walk-throughs (this package's and the repository's) must stay runnable: every `npx hookbot …` line parses, and the end-to-end suite
 * (test/cli.test.ts) runs that command with the same flags.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseArgv } from './cli.js';

// The CLI guide and the repository README's analyst and bot-developer walk-throughs.
const readme = ['../README.md', '../../../README.md']
  .map((f) => readFileSync(new URL(f, import.meta.url), 'utf8'))
  .join('\n');
const e2e = readFileSync(new URL('../../../test/cli.test.ts', import.meta.url), 'utf8');

function readmeCommands(): string[] {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const lines = blocks
    .join('\n')
    .replace(/\\\n\s*/g, '')
    .split('\n');
  return lines.map((line) => line.replace(/#.*$/, '').trim()).filter((line) => line.startsWith('npx hookbot'));
}

const words = (line: string) =>
  line
    .replace(/^npx hookbot\s*/, '')
    // A value the shell computes (`$(jq -r .clientId …)`) is one word.
    .replace(/\$\([^)]*\)/g, 'VALUE')
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w.replace(/^'(.*)'$/, '$1'));

describe('README walk-through', () => {
  const commands = readmeCommands();

  it('has the commands of the walk-through', () => {
    expect(commands.length).toBeGreaterThan(15);
  });

  it.each(commands)('%s', (line) => {
    const argv = words(line);
    const parsed = parseArgv(argv, { writeOut: () => undefined, writeErr: () => undefined });
    if ('exitCode' in parsed) {
      expect(parsed.exitCode).toBe(0);
      return;
    }
    const command = parsed.invocation.command.split(' ');
    expect(e2e, `the e2e suite never runs "${command.join(' ')}"`).toContain(command.map((w) => `'${w}'`).join(', '));
    for (const flag of argv.filter((w) => w.startsWith('--'))) {
      expect(e2e, `the e2e suite never passes ${flag}`).toContain(`'${flag}'`);
    }
  });
});
