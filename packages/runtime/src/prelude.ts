/**
 * The prelude script (`prelude-script.ts`, see there) as text for isolated-vm, and the CommonJS wrapper around bot
 * code. The module is compiled by esbuild, once per process, from whichever file sits beside this one (the
 * TypeScript source, or tsc's output in `dist`), and wrapped so that the script's completion value is the
 * dispatcher. esbuild's CommonJS output keeps the module's helpers and constants inside that wrapper: the script
 * defines no global.
 */
import { readFileSync } from 'node:fs';
import { transformSync } from 'esbuild';

export { DIRTY, MAX_ARGS_LENGTH, MAX_ARGS_TOTAL } from './prelude-script.js';
export type { Answer, Outcome } from './prelude-script.js';

let compiled: string | undefined;

function preludeModule(): string {
  if (compiled === undefined) {
    const ts = import.meta.url.endsWith('.ts');
    const file = new URL(ts ? './prelude-script.ts' : './prelude-script.js', import.meta.url);
    const { code } = transformSync(readFileSync(file, 'utf8'), {
      loader: ts ? 'ts' : 'js',
      format: 'cjs',
      target: 'es2022',
    });
    compiled = `(function () {\n'use strict';\nconst module = { exports: {} }, exports = module.exports;\n${code}\nreturn module.exports.hookbotPrelude;\n})()`;
  }
  return compiled;
}

/** The prelude for CommonJS bots (with the one-shot binder) or ES-module bots, sealed or not. */
export function preludeFor(commonJs: boolean, sealed: boolean): string {
  return `${preludeModule()}(${commonJs}, ${sealed});\n`;
}

/** The prelude's filename in stack traces (bot frames are told apart by the bot's own filename). */
export const PRELUDE_FILENAME = 'hookbot-prelude.js';

/**
 * Head and tail around CommonJS bot code: the script hands the wrapped bot to the prelude's binder. The callee is
 * evaluated before the argument, so without the prelude (the binder is missing) the script throws before any bot
 * text runs. Text that closes the wrapper early can only change which function is bound, which is bot code either
 * way, called by `run` within the invocation's limits. The head is one line, so bot line numbers are unchanged.
 */
export const CJS_HEAD = `__hookbotBind((function (exports, module) {`;
// `void 0` makes the script's completion value undefined, whatever the text before it: nothing large is copied out.
export const CJS_TAIL = '\n}));void 0;';
/** Columns taken by the head on the bot's first line. */
export const CJS_FIRST_LINE_COLUMNS = CJS_HEAD.length;
