/**
 * The one error type of the server. Everything that should become an error response throws a `HookbotError`;
 * one middleware (`infra/error-middleware.ts`) renders it as a FHIR OperationOutcome (FHIR and CDS routes) or as
 * RFC 6749 JSON (OAuth routes). The status lives on the error.
 */

/** OperationOutcome.issue.code values used by Hookbot (FHIR R4 IssueType). */
export type IssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'invariant'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'not-found'
  | 'not-supported'
  | 'conflict'
  | 'duplicate'
  | 'too-costly'
  | 'business-rule'
  | 'processing'
  | 'exception'
  | 'timeout'
  | 'throttled'
  | 'incomplete';

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
  /** For OAuth routes. */
  oauthError?: OAuthErrorCode;
  headers?: Record<string, string>;
  cause?: unknown;
}

export class HookbotError extends Error {
  readonly status: number;
  readonly issues: Issue[];
  readonly oauthError?: OAuthErrorCode;
  readonly headers: Record<string, string>;

  constructor(status: number, code: IssueType, diagnostics: string, options: HookbotErrorOptions = {}) {
    super(diagnostics, { cause: options.cause });
    this.name = 'HookbotError';
    this.status = status;
    this.issues = options.issues ?? [{ severity: 'error', code, diagnostics }];
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

export const badRequest = (diagnostics: string, expression?: string): HookbotError =>
  new HookbotError(400, 'invalid', diagnostics, {
    issues: [{ severity: 'error', code: 'invalid', diagnostics, ...(expression ? { expression: [expression] } : {}) }],
  });
/** A body that does not parse; the FHIR, CDS, admin and OAuth routes all word it so. */
export const malformedJson = (detail: string): HookbotError =>
  new HookbotError(400, 'structure', `Malformed JSON: ${detail}`);
export const unauthorized = (diagnostics: string, headers: Record<string, string> = {}): HookbotError =>
  new HookbotError(401, 'login', diagnostics, { headers: { 'WWW-Authenticate': 'Bearer', ...headers } });
export const forbidden = (diagnostics: string): HookbotError => new HookbotError(403, 'forbidden', diagnostics);
export const notFound = (diagnostics = 'Not found'): HookbotError => new HookbotError(404, 'not-found', diagnostics);
export const conflict = (diagnostics: string): HookbotError => new HookbotError(409, 'conflict', diagnostics);
export const preconditionFailed = (diagnostics: string): HookbotError => new HookbotError(412, 'conflict', diagnostics);
export const invalidIssues = (status: number, issues: Issue[]): HookbotError =>
  new HookbotError(status, issues[0]?.code ?? 'invalid', issues.map((i) => i.diagnostics).join('; '), { issues });
