/** Bot source handling: module format detection, wrapping, and compiler messages. */
import { CJS_FIRST_LINE_COLUMNS, CJS_HEAD, CJS_TAIL } from './prelude.js';
import type { BotCode, CompileCheck } from './types.js';

export type BotFormat = 'commonjs' | 'module';

/** Largest bot accepted, in UTF-16 code units (a bundled bot with its libraries stays well below this). */
export const MAX_CODE_LENGTH = 10 * 1024 * 1024;

// A line starting with a static `import` or `export` statement; `import(` and `import.meta` are not static.
const ESM_LINE = /^[ \t]*(?:export[\s{*]|import[ \t]*(?:[\w$*{]|["']))/m;

export function detectFormat(code: BotCode): BotFormat {
  return code.format ?? (ESM_LINE.test(code.code) ? 'module' : 'commonjs');
}

export function filenameOf(code: BotCode): string {
  const name = code.filename ?? `${code.botId}.js`;
  return name.replace(/[^\w.@/-]/g, '_').slice(0, 200) || 'bot.js';
}

export function wrapCommonJs(code: string): string {
  return CJS_HEAD + code + CJS_TAIL;
}

/** A compiler error as isolated-vm reports it: `Unexpected token ';' [bot.js:3:9]`. */
export function compileFailure(err: unknown, wrapped: boolean): CompileCheck {
  const raw = err instanceof Error ? err.message : String(err);
  const match = /^(.*?)\s*\[[^\]]*:(\d+):(\d+)\]$/s.exec(raw);
  if (!match) return { ok: false, message: firstLine(raw) };
  const line = Number(match[2]);
  let column = Number(match[3]);
  if (wrapped && line === 1) column = Math.max(1, column - CJS_FIRST_LINE_COLUMNS);
  return { ok: false, message: firstLine(match[1] ?? raw), line, column };
}

export function firstLine(message: string, max = 500): string {
  const nl = message.indexOf('\n');
  return (nl < 0 ? message : message.slice(0, nl)).slice(0, max);
}
