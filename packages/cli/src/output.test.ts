import { afterEach, describe, expect, it, vi } from 'vitest';
import { createOutput, wantsColor } from './output.js';

function capture(options: { json?: boolean; interactive?: boolean } = {}) {
  const streams = { stdout: '', stderr: '' };
  const out = createOutput({
    stdout: { write: (t: string) => (streams.stdout += t) },
    stderr: { write: (t: string) => (streams.stderr += t) },
    json: options.json ?? false,
    color: false,
    interactive: options.interactive ?? false,
  });
  return { out, streams };
}

afterEach(() => vi.useRealTimers());

describe('Output', () => {
  it('prints the human rendering, or only JSON on stdout with --json', () => {
    const human = capture();
    human.out.result({ a: 1 }, () => 'A is 1');
    expect(human.streams.stdout).toBe('A is 1\n');
    const json = capture({ json: true });
    json.out.result({ a: 1 }, () => 'A is 1');
    json.out.note('progress');
    expect(JSON.parse(json.streams.stdout)).toEqual({ a: 1 });
    expect(json.streams.stderr).toBe('progress\n');
  });

  it('says nothing about a quick step, and names a slow one on stderr after a second', async () => {
    vi.useFakeTimers();
    const { out, streams } = capture();
    await out.step('quick', async () => 1);
    expect(streams.stderr).toBe('');
    let finish: (value: number) => void = () => undefined;
    const slow = out.step('Deploying', () => new Promise<number>((resolve) => (finish = resolve)));
    await vi.advanceTimersByTimeAsync(1100);
    expect(streams.stderr).toBe('… Deploying\n');
    finish(2);
    expect(await slow).toBe(2);
  });

  it('draws a spinner on a terminal and clears it when the step ends', async () => {
    vi.useFakeTimers();
    const { out, streams } = capture({ interactive: true });
    let finish: () => void = () => undefined;
    const slow = out.step('Deploying', () => new Promise<void>((resolve) => (finish = resolve)));
    await vi.advanceTimersByTimeAsync(1300);
    expect(streams.stderr).toMatch(/\r⠋ Deploying/);
    finish();
    await slow;
    expect(streams.stderr.endsWith('\r\u001b[2K')).toBe(true);
  });

  it('reports steps with ✓ and ✗ when asked', async () => {
    const { out, streams } = capture();
    await out.step('Build', async () => 'x', { report: (v) => `Built ${v}` });
    await expect(out.step('Deploy', async () => Promise.reject(new Error('no')), { report: true })).rejects.toThrow(
      'no',
    );
    expect(streams.stderr).toMatch(/^✓ Built x \(\d+ ms\)\n✗ Deploy\n$/);
  });

  it.each([
    [{}, true, undefined, true],
    [{}, false, undefined, false],
    [{ NO_COLOR: '1' }, true, undefined, false],
    [{ FORCE_COLOR: '1' }, false, undefined, true],
    [{ FORCE_COLOR: '1' }, true, false as const, false],
    [{ TERM: 'dumb' }, true, undefined, false],
  ])('colour with env %j, tty %s, flag %s → %s', (env, isTTY, flag, expected) => {
    expect(wantsColor(env, { write: () => true, isTTY }, flag)).toBe(expected);
  });
});
