/**
 * Type-checks a TypeScript bot before `bot deploy` ships it: esbuild strips types without checking them, so a
 * type error would otherwise deploy. Strict mode, ES2022 and only what the sandbox provides (no DOM, no Node
 * types; `console` is declared here). TypeScript is loaded only when a bot is checked.
 */
import path from 'node:path';
import { CliError } from '../errors.js';

const SANDBOX_DECLARATIONS = `
interface HookbotConsole {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
}
declare var console: HookbotConsole;
`;

const TYPESCRIPT_SOURCE = /\.(c|m)?tsx?$/;

/** The type errors of `source` as `file:line:col: message` (relative to `root`); empty when it checks. */
export async function typeErrors(root: string, source: string): Promise<string[]> {
  if (!TYPESCRIPT_SOURCE.test(source)) return [];
  const ts = (await import('typescript')).default;
  const sandbox = path.join(root, '__hookbot_sandbox__.d.ts');
  const options: import('typescript').CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: [],
    skipLibCheck: true,
    isolatedModules: true,
    allowImportingTsExtensions: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    path.resolve(fileName) === sandbox
      ? ts.createSourceFile(fileName, SANDBOX_DECLARATIONS, languageVersion)
      : getSourceFile(fileName, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => path.resolve(fileName) === sandbox || fileExists(fileName);
  const program = ts.createProgram([source, sandbox], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return text;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${path.relative(root, d.file.fileName)}:${line + 1}:${character + 1}: ${text}`;
  });
}

export async function typecheckBot(root: string, name: string, source: string): Promise<void> {
  const errors = await typeErrors(root, path.resolve(root, source));
  if (errors.length > 0) {
    throw new CliError('failed', `${name} has type errors; nothing was deployed`, {
      lines: [...errors, 'Fix them, or deploy anyway with --no-typecheck.'],
    });
  }
}
