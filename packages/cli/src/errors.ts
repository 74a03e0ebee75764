/**
 * The one error type of the CLI. Commands throw it; only `main.ts` turns it into a message and an exit code.
 * The codes are a closed list, documented in README.md ("Exit codes"); errors.test.ts keeps the two in step.
 */
import { readFile } from 'node:fs/promises';

export const EXIT_CODES = {
  /** The server refused the request, a bot or rule test failed, or a local check found problems. */
  failed: 1,
  /** The command line is wrong: unknown flag, missing argument, unknown bot name, unreadable input file. */
  usage: 2,
  /** No usable profile, bad credentials, or the server answered 401/403. */
  auth: 3,
  /** The server could not be reached, or answered something that is not HTTP/JSON we understand. */
  network: 4,
} as const;

export type CliErrorCode = keyof typeof EXIT_CODES;

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
