export { BotRuntime } from './runtime.js';
export type {
  BotCode,
  CompileCheck,
  HostCall,
  LogLine,
  RunFailureKind,
  RunLimits,
  RunOptions,
  RunResult,
  RuntimeOptions,
  RuntimeStats,
} from './types.js';
export { ProcessBotRuntime, type ProcessRuntimeOptions, type ProcessRuntimeStats } from './process-runtime.js';
export { CallTable } from './call-table.js';
