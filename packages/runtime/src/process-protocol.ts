/** Messages between ProcessBotRuntime (parent) and its worker process (child), over Node IPC. */
import type { CompileCheck, RunOptions, RunResult, RuntimeOptions, RuntimeStats } from './types.js';

export type ChildOptions = Omit<RuntimeOptions, 'onCatastrophicError'>;

export type ToChild =
  | { t: 'run'; id: number; options: Omit<RunOptions, 'host'> }
  | { t: 'reply'; id: number; reqId: number; ok: boolean; value?: unknown; error?: HostErrorInfo }
  | { t: 'check'; id: number; code: string; filename?: string }
  | { t: 'invalidate'; botId: string }
  | { t: 'stats'; id: number };

export type FromChild =
  | { t: 'ready' }
  | { t: 'host'; id: number; reqId: number; client: string; method: string; args: unknown[] }
  | { t: 'result'; id: number; result: RunResult }
  | { t: 'checked'; id: number; check: CompileCheck }
  | { t: 'stats'; id: number; stats: RuntimeStats }
  | { t: 'catastrophic'; message: string };

export interface HostErrorInfo {
  message: string;
  status?: number;
  code?: string;
}
