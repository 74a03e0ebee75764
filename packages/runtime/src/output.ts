/** Decoding what comes out of the sandbox (untrusted) and encoding what the host sends in. */
import sjson from 'secure-json-parse';
import { firstLine } from './source.js';
import type { LogLine, RunFailureKind, RunResult } from './types.js';
import type { HostErrorInfo } from './process-protocol.js';
import type { Answer, Outcome } from './prelude-script.js';

export const MAX_MESSAGE_LENGTH = 1000;
/** Deeper results are refused: consumers walking them recursively would overflow their stacks. */
export const MAX_RESULT_DEPTH = 256;

export type Decoded =
  | { ok: true; result: unknown }
  | { ok: false; kind: RunFailureKind; message: string; line?: number; fromTopLevel?: boolean };

/** Turns the `<outcome>:<body>` string produced by the prelude's `run` into a result. All of it is untrusted. */
export function decodeOutput(raw: unknown, maxOutputBytes: number): Decoded {
  if (typeof raw !== 'string' || raw.length === 0) {
    return { ok: false, kind: 'crashed', message: 'The sandbox returned no result' };
  }
  const colon = raw.indexOf(':');
  const outcome = (colon < 0 ? '' : raw.slice(0, colon)) as Outcome;
  const body = raw.slice(colon + 1);
  switch (outcome) {
    case 'result':
      return decodeResult(body, maxOutputBytes);
    case 'too-large':
      return { ok: false, kind: 'output-too-large', message: tooLarge(maxOutputBytes) };
    case 'bad-output':
      return {
        ok: false,
        kind: 'bad-output',
        message: `The result is not JSON-serialisable: ${describe(body).message}`,
      };
    case 'thrown':
    case 'top-level-thrown':
      return { ok: false, kind: 'thrown', ...describe(body), fromTopLevel: outcome === 'top-level-thrown' };
    case 'no-handler':
      return { ok: false, kind: 'compile', message: describe(body).message };
    default:
      return { ok: false, kind: 'crashed', message: 'The sandbox returned an unexpected result' };
  }
}

function decodeResult(json: string, maxOutputBytes: number): Decoded {
  if (json.length > maxOutputBytes || Buffer.byteLength(json, 'utf8') > maxOutputBytes) {
    return { ok: false, kind: 'output-too-large', message: tooLarge(maxOutputBytes) };
  }
  if (nestingDepth(json) > MAX_RESULT_DEPTH) {
    return { ok: false, kind: 'bad-output', message: `The result is nested deeper than ${MAX_RESULT_DEPTH} levels` };
  }
  try {
    return { ok: true, result: sjson.parse(json, null, { protoAction: 'error', constructorAction: 'error' }) };
  } catch {
    return { ok: false, kind: 'bad-output', message: 'The result contains a forbidden key (__proto__ or constructor)' };
  }
}

const tooLarge = (max: number): string => `The result is larger than ${max} bytes`;

/** A run that failed outside the bot (its runtime process was unavailable, ended or lost the code). */
export function crashed(message: string, started: number): RunResult {
  return { ok: false, kind: 'crashed', message, logs: [], durationMs: performance.now() - started };
}

/** Reads a `{message, line?}` descriptor written by the prelude; anything odd becomes a generic message. */
function describe(json: string): { message: string; line?: number } {
  let parsed: unknown;
  try {
    parsed = sjson.parse(json, null, { protoAction: 'remove', constructorAction: 'remove' });
  } catch {
    return { message: 'An error was thrown that could not be described' };
  }
  if (typeof parsed !== 'object' || parsed === null) return { message: 'An error was thrown' };
  const { message, line } = parsed as { message?: unknown; line?: unknown };
  const text = typeof message === 'string' && message.length > 0 ? truncate(message) : 'An error was thrown';
  return Number.isInteger(line) && (line as number) > 0 ? { message: text, line: line as number } : { message: text };
}

export function truncate(message: string, max = MAX_MESSAGE_LENGTH): string {
  return message.length <= max ? message : `${message.slice(0, max - 1)}…`;
}

/** Largest nesting of arrays and objects in a JSON text, skipping string contents. */
export function nestingDepth(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

const answer = (kind: Answer, body = ''): string => `${kind}:${body}`;

/** The answer to a bot's client call, as the prelude's `reply` reads it. Never throws. */
export function encodeHostValue(value: unknown): string {
  if (value === undefined) return answer('undefined');
  try {
    const json = JSON.stringify(value);
    return json === undefined ? answer('undefined') : answer('value', json);
  } catch {
    return encodeHostError(new Error('The client returned a value that is not JSON-serialisable'));
  }
}

/** Only the message (and a status and issue code when the error carries them): never a host stack trace. */
export function encodeHostError(err: unknown): string {
  return answer('error', JSON.stringify(hostErrorInfo(err)));
}

/** What a host error may tell a bot (see encodeHostError). */
export function hostErrorInfo(err: unknown): HostErrorInfo {
  const info: HostErrorInfo = { message: 'Client call failed' };
  if (err instanceof Error || (typeof err === 'object' && err !== null)) {
    const { message, status, code, issues } = err as Record<string, unknown>;
    if (typeof message === 'string' && message.length > 0) info.message = truncate(firstLine(message, 2000));
    if (typeof status === 'number') info.status = status;
    if (typeof code === 'string') info.code = code.slice(0, 64);
    else if (Array.isArray(issues) && typeof (issues[0] as { code?: unknown } | undefined)?.code === 'string') {
      info.code = String((issues[0] as { code: string }).code).slice(0, 64);
    }
  } else if (typeof err === 'string') {
    info.message = truncate(err);
  }
  return info;
}

const LEVELS = new Set(['log', 'info', 'warn', 'error']);

/**
 * Keeps the last `maxBytes` of log output. The prelude cuts lines to `maxBytes` characters and stops after 8× that;
 * the host bounds what it accepts again (each line also costs one unit, so empty lines cannot pile up).
 */
export class LogTail {
  private readonly lines: LogLine[] = [];
  private bytes = 0;
  private received = 0;
  private readonly lineMax: number;
  private readonly budget: number;

  constructor(private readonly maxBytes: number) {
    this.lineMax = maxBytes + 256;
    this.budget = maxBytes * 9 + 1024;
  }

  push(level: unknown, message: unknown): void {
    if (typeof message !== 'string' || this.received >= this.budget) return;
    const text = message.length > this.lineMax ? message.slice(0, this.lineMax) : message;
    this.received += text.length + 1;
    const lvl = (typeof level === 'string' && LEVELS.has(level) ? level : 'log') as LogLine['level'];
    this.lines.push({ level: lvl, message: text, time: new Date().toISOString() });
    this.bytes += Buffer.byteLength(text, 'utf8') + 1;
    while (this.bytes > this.maxBytes && this.lines.length > 1) {
      const dropped = this.lines.shift() as LogLine;
      this.bytes -= Buffer.byteLength(dropped.message, 'utf8') + 1;
    }
  }

  toArray(): LogLine[] {
    return this.lines.slice();
  }
}
