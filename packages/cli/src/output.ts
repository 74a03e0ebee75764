/**
 * Everything the CLI writes goes through an Output: results on stdout (human text or JSON), progress and
 * diagnostics on stderr, so `hookbot ... --json | jq` always sees clean JSON.
 */
export interface Writer {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface OutputOptions {
  stdout: Writer;
  stderr: Writer;
  json: boolean;
  color: boolean;
  /** Progress spinners only on an interactive terminal; elsewhere plain step lines. */
  interactive: boolean;
}

export interface Output {
  readonly json: boolean;
  readonly style: Style;
  /** One result: `render()` for people, `data` for `--json`. */
  result(data: unknown, render: () => string): void;
  /** A line on stdout that is not part of a JSON result (used by streaming commands in human mode). */
  line(text: string): void;
  /** A line on stderr (notes, warnings); never mixed into JSON output. */
  note(text: string): void;
  /**
   * Runs one step. With `report`, a ✓/✗ line says how it went; otherwise something is shown only when the step
   * takes longer than a second (a spinner on a terminal, one "… label" line elsewhere).
   */
  step<T>(label: string, fn: () => Promise<T>, options?: { report?: boolean | ((value: T) => string) }): Promise<T>;
}

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  blue(text: string): string;
}

const ansi = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain = (text: string) => text;

export function createStyle(color: boolean): Style {
  if (!color) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, blue: plain };
  return {
    bold: ansi(1, 22),
    dim: ansi(2, 22),
    red: ansi(31, 39),
    green: ansi(32, 39),
    yellow: ansi(33, 39),
    blue: ansi(34, 39),
  };
}

/** NO_COLOR (https://no-color.org) and FORCE_COLOR win over the terminal check. */
export function wantsColor(env: NodeJS.ProcessEnv, stream: Writer, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SLOW_MS = 1000;

export function createOutput(options: OutputOptions): Output {
  const { stdout, stderr, json, interactive } = options;
  const style = createStyle(options.color);
  const elapsed = (start: number) => {
    const ms = Date.now() - start;
    return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
  };

  return {
    json,
    style,
    result(data, render) {
      stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : ensureNewline(render()));
    },
    line(text) {
      stdout.write(`${text}\n`);
    },
    note(text) {
      stderr.write(`${text}\n`);
    },
    async step(label, fn, stepOptions = {}) {
      const start = Date.now();
      let frame = 0;
      let spinner: NodeJS.Timeout | undefined;
      const slow = setTimeout(() => {
        if (!interactive) {
          stderr.write(`… ${label}\n`);
          return;
        }
        spinner = setInterval(() => {
          stderr.write(
            `\r${style.blue(SPINNER[frame++ % SPINNER.length] ?? '')} ${label} ${style.dim(elapsed(start))}`,
          );
        }, 80);
      }, SLOW_MS);
      const stop = () => {
        clearTimeout(slow);
        if (spinner) {
          clearInterval(spinner);
          stderr.write('\r\u001b[2K');
        }
      };
      try {
        const value = await fn();
        stop();
        const report = stepOptions.report;
        if (report) {
          const text = typeof report === 'function' ? report(value) : label;
          stderr.write(`${style.green('✓')} ${text} ${style.dim(`(${elapsed(start)})`)}\n`);
        }
        return value;
      } catch (error) {
        stop();
        if (stepOptions.report) stderr.write(`${style.red('✗')} ${label}\n`);
        throw error;
      }
    },
  };
}

function ensureNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}
