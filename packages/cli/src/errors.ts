/**
 * The one error type of the CLI. Commands throw it; only `main.ts` turns it into a message and an exit code.
 * The codes are a closed list, documented in README.md ("Exit codes"); errors.test.ts keeps the two in step.
 */
import { readFile } from 'node:fs/promises';

/**
 * The one table of exit codes: `EXIT_CODES` (what the code exits with) and `--help`'s "Exit codes" section are
 * both derived from it, and errors.test.ts checks README.md against it.
 */
export const EXIT_CODE_TABLE = {
  failed: { code: 1, help: 'failed: the server refused the request, a test failed, or a check found problems' },
  usage: {
    code: 2,
    help: 'usage error: bad flags or arguments, unknown or ambiguous bot or service name, unreadable input file',
  },
  auth: { code: 3, help: 'auth or config error: not logged in, unknown profile, bad credentials, HTTP 401/403' },
  network: { code: 4, help: 'network error: the server cannot be reached' },
} as const;

export type CliErrorCode = keyof typeof EXIT_CODE_TABLE;

export const EXIT_CODES = Object.fromEntries(
  Object.entries(EXIT_CODE_TABLE).map(([name, row]) => [name, row.code]),
) as { readonly [K in CliErrorCode]: (typeof EXIT_CODE_TABLE)[K]['code'] };

/** The "Exit codes" section of every `--help`. */
export const EXIT_CODES_HELP = [
  '',
  'Exit codes:',
  '  0  success',
  ...Object.values(EXIT_CODE_TABLE).map((row) => `  ${row.code}  ${row.help}`),
  '',
].join('\n');

export interface CliErrorDetails {
  /** The server's X-Request-Id, so an operator can find the request in the server's logs. */
  requestId?: string;
  status?: number;
  /** Extra lines shown under the message (the server's diagnostics, compiler errors, a hint). */
  lines?: string[];
  /** Data printed as `{"error": ...}` in `--json` mode. */
  data?: unknown;
}

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: CliErrorCode,
    message: string,
    readonly details: CliErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export const usageError = (message: string, lines?: string[]) => new CliError('usage', message, lines ? { lines } : {});

/** A file's text, or a usage error (exit 2) naming it, for files the user passed on the command line. */
export async function readText(file: string, label = file): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError('usage', `Cannot read ${label}: ${(error as Error).message}`, {}, { cause: error });
  }
}
