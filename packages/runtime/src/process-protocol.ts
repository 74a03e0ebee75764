/** Messages between ProcessBotRuntime (parent) and its worker process (child), over Node IPC. */
import type { BotCode, CompileCheck, RunOptions, RunResult, RuntimeOptions, RuntimeStats } from './types.js';

export type ChildOptions = Omit<RuntimeOptions, 'onCatastrophicError'>;

export type ToChild =
  /** `code` is sent once per bot version and worker; later runs name the bot and the worker uses its copy. */
  | { t: 'run'; id: number; botId: string; code?: BotCode; options: Omit<RunOptions, 'host' | 'code'> }
  | { t: 'forget-code' }
  | { t: 'reply'; id: number; reqId: number; ok: boolean; value?: unknown; error?: HostErrorInfo }
  | { t: 'check'; id: number; code: string; filename?: string }
  | { t: 'invalidate'; botId: string }
  | { t: 'stats'; id: number };

export type FromChild =
  | { t: 'ready' }
  | { t: 'host'; id: number; reqId: number; client: string; method: string; args: unknown[] }
  | { t: 'result'; id: number; result: RunResult; stats: RuntimeStats }
  | { t: 'checked'; id: number; check: CompileCheck }
  | { t: 'stats'; id: number; stats: RuntimeStats }
  | { t: 'catastrophic'; message: string };

export interface HostErrorInfo {
  message: string;
  status?: number;
  code?: string;
}
