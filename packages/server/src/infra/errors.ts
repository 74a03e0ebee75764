/**
 * The one error type of the server. Everything that should become an error response throws a `HookbotError`;
 * one middleware (`infra/error-middleware.ts`) renders it as a FHIR OperationOutcome (FHIR and CDS routes) or as
 * RFC 6749 JSON (OAuth routes). Its code (`error-codes.ts`) fixes the status and the FHIR issue type.
 */

import { ERROR_CODES, type ErrorCode, type IssueType } from './error-codes.js';

export type { ErrorCode, IssueType };

export interface Issue {
  severity?: 'fatal' | 'error' | 'warning' | 'information';
  code: IssueType;
  diagnostics: string;
  /** FHIRPath or JSON path of the offending element. */
  expression?: string[];
}

/** RFC 6749 §5.2 error codes, for the OAuth endpoints. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope';

export interface HookbotErrorOptions {
  issues?: Issue[];
  /** Where the problem is, for the default issue. */
  expression?: string;
  /** For OAuth routes. */
  oauthError?: OAuthErrorCode;
  headers?: Record<string, string>;
  /** Only for errors of other libraries whose status the code does not fix (see error-middleware.ts). */
  status?: number;
  cause?: unknown;
}

export class HookbotError extends Error {
  readonly errorCode: ErrorCode;
  readonly status: number;
  readonly issues: Issue[];
  readonly oauthError?: OAuthErrorCode;
  readonly headers: Record<string, string>;

  constructor(errorCode: ErrorCode, diagnostics: string, options: HookbotErrorOptions = {}) {
    super(diagnostics, { cause: options.cause });
    const [status, code] = ERROR_CODES[errorCode];
    const expression = options.expression ? { expression: [options.expression] } : {};
    this.name = 'HookbotError';
    this.errorCode = errorCode;
    this.status = options.status ?? status;
    this.issues = options.issues ?? [{ severity: 'error', code, diagnostics, ...expression }];
    this.oauthError = options.oauthError;
    this.headers = options.headers ?? {};
  }
}

/** A problem located by a path (JSON path, FHIRPath or JSON pointer), as the validators of @hookbot/bots report them. */
export interface LocatedProblem {
  path: string;
  message: string;
}

/** Issues naming each problem's path in `expression` (and in the diagnostic, after `prefix`). */
export function locatedIssues(problems: LocatedProblem[], code: IssueType = 'invalid', prefix = ''): Issue[] {
  return problems.map((p) => ({
    severity: 'error',
    code,
    diagnostics: `${prefix}${p.path ? `${p.path}: ` : ''}${p.message}`,
    ...(p.path ? { expression: [p.path] } : {}),
  }));
}

/** A body that does not parse; the FHIR, CDS, admin and OAuth routes all word it so. */
export const malformedJson = (detail: string): HookbotError =>
  new HookbotError('request.malformed-json', `Malformed JSON: ${detail}`);
/** The codes answered with HTTP status `S`. */
type CodeWithStatus<S extends number> = {
  [K in ErrorCode]: (typeof ERROR_CODES)[K][0] extends S ? K : never;
}[ErrorCode];

export const badRequest = (code: CodeWithStatus<400>, diagnostics: string, expression?: string): HookbotError =>
  new HookbotError(code, diagnostics, expression ? { expression } : {});
export const forbidden = (code: CodeWithStatus<403>, diagnostics: string): HookbotError =>
  new HookbotError(code, diagnostics);
export const notFound = (code: CodeWithStatus<404>, diagnostics: string): HookbotError =>
  new HookbotError(code, diagnostics);
export const conflict = (code: CodeWithStatus<409>, diagnostics: string): HookbotError =>
  new HookbotError(code, diagnostics);
export const preconditionFailed = (diagnostics: string): HookbotError =>
  new HookbotError('fhir.precondition-failed', diagnostics);
export const unauthorized = (code: CodeWithStatus<401>, diagnostics: string, headers: Record<string, string> = {}) =>
  new HookbotError(code, diagnostics, { headers: { 'WWW-Authenticate': 'Bearer', ...headers } });
export const invalidIssues = (code: ErrorCode, issues: Issue[]): HookbotError =>
  new HookbotError(code, issues.map((i) => i.diagnostics).join('; '), { issues });
