/**
 * The prelude script (`prelude-script.ts`, see there) as text for isolated-vm, and the CommonJS wrapper around bot
 * code. esbuild compiles the module once per process, from the file beside this one (the TypeScript source, or
 * tsc's output in `dist`), into a wrapper that defines no global and whose completion value is the dispatcher.
 */
import { readFile } from 'node:fs/promises';
import { transform } from 'esbuild';

export { DIRTY, MAX_ARGS_LENGTH, MAX_ARGS_TOTAL } from './prelude-script.js';

let compiled: Promise<string> | undefined;

/**
 * esbuild's asynchronous API: it shares the service process the server's other builds use, and never blocks the
 * event loop (the synchronous one waits on a worker thread of its own, kept for the life of the process).
 */
function preludeModule(): Promise<string> {
  compiled ??= compilePrelude().catch((err: unknown) => {
    compiled = undefined;
    throw err;
  });
  return compiled;
}

async function compilePrelude(): Promise<string> {
  const ts = import.meta.url.endsWith('.ts');
  const file = new URL(ts ? './prelude-script.ts' : './prelude-script.js', import.meta.url);
  const { code } = await transform(await readFile(file, 'utf8'), {
    loader: ts ? 'ts' : 'js',
    format: 'cjs',
    target: 'es2022',
  });
  return `(function () {\n'use strict';\nconst module = { exports: {} }, exports = module.exports;\n${code}\nreturn module.exports.hookbotPrelude;\n})()`;
}

/** The prelude for CommonJS bots (with the one-shot binder) or ES-module bots, sealed or not. */
export async function preludeFor(commonJs: boolean, sealed: boolean): Promise<string> {
  return `${await preludeModule()}(${commonJs}, ${sealed});\n`;
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
